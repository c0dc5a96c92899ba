# shellcheck shell=bash
# Reads tests/deps (program or file, Debian package, group) for every script that installs or
# checks what the tests need. Sourced, not run.
#   deps_packages GROUP...   the packages of these groups, one per line
#   deps_commands GROUP...   their commands (not the paths), one per line
#   deps_installed PKG       the package is installed (dpkg-query)
#   deps_install GROUP...    apt-get installs the packages not yet installed (one update first),
#                            then deps_preflight: fails with one line per missing program
#   deps_preflight GROUP...  every program (command -v) and path of these groups is there, or
#                            prints "missing: PROG (Debian package PKG, group G)" and fails
DEPS_TABLE=${DEPS_TABLE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/deps}

# deps_rows GROUP...: "group what package" rows of the table for these groups.
deps_rows() {
    awk -v groups=" $* " '!/^#/ && NF == 3 && index(groups, " " $1 " ") {print $1, $2, $3}' "$DEPS_TABLE"
}

deps_packages() { deps_rows "$@" | awk '{print $3}' | sort -u; }

deps_commands() { deps_rows "$@" | awk '$2 !~ /^\// {print $2}' | awk '!seen[$0]++'; }

deps_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

deps_install() {
    local p missing=()
    for p in $(deps_packages "$@"); do
        deps_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}" > /dev/null; }; then
            echo "missing: apt-get install ${missing[*]} failed" >&2
            return 1
        fi
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
