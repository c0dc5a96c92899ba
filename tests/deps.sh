# shellcheck shell=bash
# Reads tests/deps (program or file, Debian package, group) for every script that installs or
# checks what the tests need. Sourced, not run.
#   deps_packages GROUP...   the packages of these groups, one per line
#   deps_commands GROUP...   their commands (not the paths), one per line
#   deps_installed PKG       the package is installed (dpkg-query); PKG/SUITE: in SUITE's version
#   deps_install GROUP...    apt-get installs the packages not yet installed (one update first),
#                            then deps_preflight: fails with one line per missing program
#   deps_suite_source SUITE  adds SUITE (bookworm-backports only) to the host's apt sources
# A package written PKG/SUITE comes from that suite: only bookworm-backports, the one suite
# besides Debian 12 that may be installed on the host (qemu >= 8.1 for the CXL lab: Debian 12's
# 7.2 has no cxl-type3 volatile-memdev/persistent-memdev). apt-get install PKG/SUITE takes the
# dependencies that need it from there too; everything else stays Debian 12's.
#   deps_preflight GROUP...  every program (command -v) and path of these groups is there, or
#                            prints "missing: PROG (Debian package PKG, group G)" and fails
DEPS_TABLE=${DEPS_TABLE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/deps}

# deps_rows GROUP...: "group what package" rows of the table for these groups.
deps_rows() {
    awk -v groups=" $* " '!/^#/ && NF == 3 && index(groups, " " $1 " ") {print $1, $2, $3}' "$DEPS_TABLE"
}

deps_packages() { deps_rows "$@" | awk '{print $3}' | sort -u; }

deps_commands() { deps_rows "$@" | awk '$2 !~ /^\// {print $2}' | awk '!seen[$0]++'; }

deps_installed() {
    local pkg=${1%%/*} suite v
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || return 1
    case $1 in */*) ;; *) return 0 ;; esac
    suite=${1#*/}
    v=$(dpkg-query -W -f='${Version}' "$pkg")
    # Installed in a version SUITE has (apt-cache madison: "pkg | version | URI SUITE/main ...").
    apt-cache madison "$pkg" 2>/dev/null |
        awk -F'|' -v v="$v" -v s="$suite" '{gsub(/ /, "", $2)} $2 == v && $3 ~ (" " s "/") {f = 1} END {exit !f}'
}

# The host's apt sources get bookworm-backports (off by default: pin 100, so only what is asked
# for comes from it), on the mirror the host already uses for Debian 12.
deps_suite_source() {
    local suite=$1 mirror f
    [ "$suite" = bookworm-backports ] || { echo "missing: tests/deps names suite $suite: only bookworm-backports may be installed on the host" >&2; return 1; }
    apt-cache policy 2> /dev/null | awk -v s="$suite/main" '$3 == s {f = 1} END {exit !f}' && return 0
    mirror=$(apt-cache policy 2> /dev/null | awk '$3 == "bookworm/main" {print $2; exit}')
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    f=/etc/apt/sources.list.d/pmemtab-tests-$suite.sources
    echo "adding $suite to apt's sources ($f)" >&2
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" "$suite" > "$f"
}

deps_install() {
    local p missing=()
    for p in $(deps_packages "$@"); do
        deps_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        for p in "${missing[@]}"; do
            case $p in */*) deps_suite_source "${p#*/}" || return 1 ;; esac
        done
        echo "installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || { echo "missing: apt-get update failed" >&2; return 1; }
        # Debian 12's own packages in one call; each PACKAGE/SUITE in a call of its own with
        # -t SUITE, so that the dependencies it needs in that suite's versions come from there
        # too (qemu 10's need newer libraries than Debian 12 has: a bare
        # `apt-get install qemu-system-x86/bookworm-backports` fails on a fresh machine with
        # "held broken packages"), and nothing else does.
        local own=() suite
        for p in "${missing[@]}"; do
            case $p in */*) ;; *) own+=("$p") ;; esac
        done
        if [ "${#own[@]}" -gt 0 ] && ! apt-get install -y -qq "${own[@]}" > /dev/null; then
            echo "missing: apt-get install ${own[*]} failed" >&2
            return 1
        fi
        for p in "${missing[@]}"; do
            case $p in */*) ;; *) continue ;; esac
            suite=${p#*/}
            if ! apt-get install -y -qq -t "$suite" "${p%%/*}" > /dev/null; then
                echo "missing: apt-get install -t $suite ${p%%/*} failed" >&2
                return 1
            fi
        done
    fi
    deps_preflight "$@"
}

deps_preflight() {
    local group what pkg bad=0
    while read -r group what pkg; do
        case $what in
        /*) [ -e "$what" ] && continue ;;
        *) command -v "$what" > /dev/null 2>&1 && continue ;;
        esac
        echo "missing: $what (Debian package $pkg, group $group in tests/deps)" >&2
        bad=1
    done < <(deps_rows "$@")
    return "$bad"
}
