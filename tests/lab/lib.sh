# shellcheck shell=bash
# Host-side helpers shared by tests/lab/run, setup, demo, system/run, grub/run and the benches.
# Sourced, not run. Needs tests/lab/setup to have run (kernel and static binary under work/).

LAB=${LAB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# LAB_WORK moves the cache, images and logs elsewhere (default tests/lab/work, git-ignored).
WORK=${LAB_WORK:-$LAB/work}
# LAB_KERNEL chooses Debian's kernel (setup, run, demo and the labs also take --kernel VERSION):
#   6.1      the default: the version linux-image-amd64 depends on, Debian 12's own kernel
#   6.12     the newest linux-image-6.12.*+deb12-amd64 in the registry (its modules are .ko.xz)
#   trixie   Debian 13's kernel, testing's, unstable's: the version that suite's
#   testing  linux-image-amd64 depends on (6.12 in trixie, 7.x in testing and sid), fetched
#   sid      through a private apt configuration (work/apt-SUITE): never installed on the host
# Each has its own cache (work/kernel-VERSION) and logs (work/logs-VERSION): all coexist.
LAB_KERNEL_NAMES="6.1 6.12 trixie testing sid"
# Whether the kernel was chosen (the system lab otherwise boots its suite's own).
[ -z "${LAB_KERNEL:-}" ] || LAB_KERNEL_GIVEN=1
lab_kernel_set() {
    LAB_KERNEL=${LAB_KERNEL:-6.1}
    case " $LAB_KERNEL_NAMES " in
    *" $LAB_KERNEL "*) ;;
    *) echo "lab: unknown kernel '$LAB_KERNEL' (LAB_KERNEL or --kernel: ${LAB_KERNEL_NAMES// /, })" >&2; exit 2 ;;
    esac
    export LAB_KERNEL
    KDIR=$WORK/kernel-$LAB_KERNEL
    # shellcheck disable=SC2034 # for the scripts that source this file
    LOGS=$WORK/logs-$LAB_KERNEL
}
# The Debian suite a kernel name comes from (6.1 and 6.12 are Debian 12's).
lab_kernel_suite() {
    case ${1:-$LAB_KERNEL} in
    6.1 | 6.12) echo bookworm ;;
    *) echo "${1:-$LAB_KERNEL}" ;;
    esac
}
lab_kernel_set
# lab_apt SUITE apt-get|apt-cache ARG...: apt for another Debian suite (trixie, testing, sid)
# without touching the host's: its own sources list (the mirrors the host's apt already uses for
# Debian 12, with SUITE, and SUITE-security for a stable suite), package lists and cache under
# work/apt-SUITE, updated once a day. For downloads (the suite's kernel); nothing is installed.
lab_apt() {
    local suite=$1 tool=$2 d=$WORK/apt-$1 mirror security
    shift 2
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    if [ ! -s "$d/sources.list" ]; then
        apt-cache policy 2> /dev/null | awk '$3 == "bookworm/main" {f = 1} END {exit !f}' || apt-get update -qq
        mirror=$(apt-cache policy 2> /dev/null | awk '$3 == "bookworm/main" {print $2; exit}')
        security=$(apt-cache policy 2> /dev/null | awk '$3 == "bookworm-security/main" {print $2; exit}')
        [ -n "$mirror" ] || { echo "lab: the host's apt has no Debian 12 mirror to take $suite from" >&2; return 1; }
        {
            echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
            case $suite in
            testing | sid | unstable) ;;
            *) [ -z "$security" ] || echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security $suite-security main" ;;
            esac
        } > "$d/sources.list"
    fi
    # (Check-Valid-Until: a testing or sid Release file can be past its Valid-Until by this
    # machine's clock when the mirror lags; its signature is still checked.)
    set -- -o Dir::Etc::sourcelist="$d/sources.list" -o Dir::Etc::sourceparts=- \
        -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Acquire::Check-Valid-Until=false "$@"
    # World-writable, so apt's sandbox user may write its downloads there.
    chmod 777 "$d/lists/partial" "$d/cache/archives/partial" 2> /dev/null
    if [ -z "$(find "$d/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2> /dev/null | head -n 1)" ]; then
        apt-get "${@:1:10}" update -qq >&2 || { echo "lab: apt-get update for $suite failed" >&2; return 1; }
    fi
    "$tool" "$@"
}
# lab_args ARG...: takes --kernel K (or --kernel=K) out of a script's arguments and sets the
# kernel; the other arguments, in order, are left in the array LAB_ARGS.
lab_args() {
    LAB_ARGS=()
    # shellcheck disable=SC2034 # LAB_KERNEL_GIVEN: read by system/lib.sh
    while [ $# -gt 0 ]; do
        case $1 in
        --kernel) LAB_KERNEL=${2:?--kernel needs a version: $LAB_KERNEL_NAMES} LAB_KERNEL_GIVEN=1; shift 2 ;;
        --kernel=*) LAB_KERNEL=${1#--kernel=} LAB_KERNEL_GIVEN=1; shift ;;
        *) LAB_ARGS+=("$1"); shift ;;
        esac
    done
    lab_kernel_set
}
# The "guest" group of tests/deps: tools the guest uses to provision namespaces and as oracles
# (pmem-assemble never calls them except mkfs, for its `mkfs` option; bash runs the benchmark's
# "what admins do today" script; udevadm is the guest's udev) and the udev rules it runs.
# shellcheck source=tests/deps.sh
. "$LAB/../deps.sh"
GUEST_TOOLS=$(deps_commands guest | tr '\n' ' ')
GUEST_RULES=$(deps_rows guest | awk '$2 ~ /\/rules\.d\// {print $2}' | tr '\n' ' ')
# Modules the guest init may load, resolved with their dependencies on the host. The CXL ones
# (cxl_core and cxl_port are built in; Debian's 6.1 has no dax_cxl) and virtio_blk (a disk to
# carry results out, tests/lab/cxl/capture) load on the CXL machine only.
GUEST_MODULES="nfit nd_pmem nd_btt dax_pmem device_dax nd_e820 dm_mod ext4 xfs kmem"
GUEST_CXL_MODULES="cxl_acpi cxl_pci cxl_mem cxl_pmem dax_cxl virtio_blk"
# The CXL machine's type-3 memory devices (a boot naming one of them gets that machine, below):
# name, kind (pmem: persistent-memdev + label area; ram: volatile-memdev), size, serial (sn=).
# Backing files live in $CXL_FILES (per scenario, set by tests/lab/run) and survive its boots.
CXL_DEVICES="
cp0 pmem 1G 0x2001
cp1 pmem 1G 0x2002
cv0 ram 512M 0x1001
"
CXL_LSA_BYTES=$((1 << 20))
# The CXL fixed memory window (CFMWS): one, over the one CXL host bridge, for ram and pmem.
CXL_WINDOW=4G
# One NVDIMM: 2 GiB region after a 2 MiB label area (region sizes must be 16 MiB multiples).
# The files are sparse: only what the guest writes takes disk space.
DIMM_BYTES=$((2050 << 20))
LABEL_BYTES=$((2 << 20))
# The KMEM NVDIMM km0: on NUMA node 1, which has no CPUs and no RAM of its own, as pmem on a
# real socket-less memory node; 1 GiB region after its 2 MiB labels. A boot that has km0 puts
# its one vCPU and its 1 GiB of RAM on node 0 (the same as every other boot).
KMEM_DIMM_BYTES=$((1026 << 20))
# The two-socket machine of the numa scenario: NVDIMMs nn0 on node 0 and nn1 on node 1, each
# node with one vCPU and 512 MiB of RAM (a boot naming nnN gets this machine).
NUMA_MACHINE=(-smp 2 -m "1G,slots=8,maxmem=8G"
              -object "memory-backend-ram,id=ram0,size=512M" -object "memory-backend-ram,id=ram1,size=512M"
              -numa "node,nodeid=0,cpus=0,memdev=ram0" -numa "node,nodeid=1,cpus=1,memdev=ram1")
# Legacy pmem the way users emulate it; 0x28000000 is addr= for it.
# shellcheck disable=SC2034 # for the scripts that source this file
MEMMAP='memmap=128M!640M'
# Boots take 15-40 s here; a boot still running after this is a hang, reported as a failure.
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-150}

kver() { cat "$KDIR/kver"; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
# ms -> "12.3"
secs() { printf '%d.%d' $(( $1 / 1000 )) $(( $1 % 1000 / 100 )); }

# The host's assertions, every lab's: "PASS  $SUITE: NAME" or "FAIL  $SUITE: NAME: WHY", counted
# in passed and failed, and written as TAP to $LAB_TAP once lab_begin has named it; check NAME
# WHY CMD... passes when CMD succeeds (and returns 1 if not).
# shellcheck disable=SC2034 # read by pass and fail, and set by each script for its own lines
SUITE=lab
passed=0 failed=0 LAB_TAP="" LAB_T0=0
pass() { echo "PASS  $SUITE: $1"; passed=$((passed + 1)); tap_line ok "$1"; }
fail() { local n=$1; shift; echo "FAIL  $SUITE: $n${*:+: $*}"; failed=$((failed + 1)); tap_line "not ok" "$n" "$*"; }
check() { local n=$1 why=$2; shift 2; if "$@"; then pass "$n"; else fail "$n" "$why"; return 1; fi; }
# tap_line ok|"not ok" NAME [WHY]: one TAP test line (a \# in a description is not a directive),
# the why as a diagnostic line under it.
tap_line() {
    [ -n "$LAB_TAP" ] || return 0
    local d="$SUITE: $2"
    d=${d//\\/\\\\}; d=${d//#/\\#}
    printf '%s %d - %s\n' "$1" $((passed + failed)) "${d//$'\n'/ }" >> "$LAB_TAP"
    [ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/# /' >> "$LAB_TAP"
}
# lab_begin TAP: a run starts: its TAP file (LAB_TAP_FILE overrides; `prove -e cat TAP` reads
# it), emptied, and the moment its logs start (lab_summary keeps them when the run failed).
lab_begin() {
    LAB_TAP=${LAB_TAP_FILE:-$1}
    mkdir -p "$(dirname "$LAB_TAP")"
    echo "TAP version 13" > "$LAB_TAP"
    LAB_T0=$(date +%s)
}
# lab_summary: a run ends: the TAP plan, the logs of a run that failed kept under a name of
# their own (the next run empties the logs directory), and last the count line tests/run-all
# reads, "N passed, N failed". Returns 1 when anything failed.
lab_summary() {
    local keep
    [ -z "$LAB_TAP" ] || echo "1..$((passed + failed))" >> "$LAB_TAP"
    if [ "$failed" != 0 ] && [ "$LAB_T0" != 0 ] && [ -d "${LOGS:-}" ]; then
        keep=$WORK/failed/$(date -u -d "@$LAB_T0" +%Y%m%d-%H%M%S)-$(echo "${LOGS#"$WORK"/}" | tr / -)
        mkdir -p "$keep"
        find "$LOGS" -maxdepth 1 -type f -newermt "@$LAB_T0" -exec cp -p {} "$keep/" \;
        echo "lab: this failed run's logs are kept in $keep"
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
# give_up NAME WHY: one failure that ends the run, with the count line tests/run-all reads.
give_up() { fail "$@"; lab_summary; exit 1; }

# lab_markers LOG [PREFIX] [QEMU_STATUS]: the one reader of the guests' markers
# (tests/lab/guest/markers.sh) in a boot's serial log. LAB-PASS and LAB-FAIL become pass and
# fail, named PREFIX NAME; LAB-SAVE key=value is appended to SAVED as " lab.key=value", for a
# later boot's command line. The boot fails as a whole ("PREFIX complete") without a LAB-END
# (its script stopped early, or the guest crashed or hung) or when the count of assertions
# LAB-END gives is not the count read (lost or garbled console lines). Markers are found
# anywhere in a line: a booted system's console mixes other writers' output into them. A
# failing boot's output and kernel log tails are printed. Returns 1 when the boot failed.
SAVED=""
lab_markers() {
    local log=$1 pre=${2:-} rc=${3:-} line seen=0 bad=0 made stop why
    while IFS= read -r line; do
        case $line in
        "LAB-PASS "*) pass "$pre${line#LAB-PASS }"; seen=$((seen + 1)) ;;
        "LAB-FAIL "*) line=${line#LAB-FAIL }; fail "$pre${line%%: *}" "${line#*: }"; seen=$((seen + 1)); bad=1 ;;
        "LAB-SAVE "*) SAVED="$SAVED lab.${line#LAB-SAVE }" ;;
        esac
    done < <(grep -aoE 'LAB-(PASS|FAIL|SAVE) .*' "$log")
    made=$(grep -aoE 'LAB-END [^ ]+ [^ ]+ checks [0-9]+' "$log" | tail -n 1 | cut -d' ' -f5)
    if [ -z "$made" ]; then
        stop=$(grep -aoE 'LAB-STOPPED .*' "$log" | tail -n 1)
        why="no LAB-END in ${log##*/}: ${stop:+the script stopped early ($stop), }$seen assertions read"
        [ -z "$rc" ] || why="$why, qemu exit $rc$([ "$rc" = 124 ] && echo " (timed out after ${BOOT_TIMEOUT}s)")"
        fail "${pre}complete" "$why"
        bad=1
    elif [ "$made" != "$seen" ]; then
        fail "${pre}complete" "${log##*/}: the guest made $made assertions, $seen read${rc:+, qemu exit $rc}"
        bad=1
    fi
    [ "$bad" = 1 ] || return 0
    echo "----- tail of $log"
    sed '/^LAB-DMESG-BEGIN/,$d' "$log" | tail -n 30 | sed 's/^/    /'
    if grep -aq '^LAB-DMESG-BEGIN' "$log"; then
        echo "    ... kernel log:"
        sed -n '/^LAB-DMESG-BEGIN/,/^LAB-DMESG-END/p' "$log" | grep -v '^LAB-' | tail -n 8 | sed 's/^/    /'
    fi
    echo "-----"
    return 1
}

# One lab, demo or bench at a time per work dir: they share the initramfs and the kernel cache.
lab_lock() {
    mkdir -p "$WORK"
    exec 9> "$WORK/.lock"
    flock -n 9 || { echo "lab: waiting for another lab/demo/bench run in $WORK" >&2; flock 9; }
}

# Copies a dynamically linked program and the libraries ldd names into the image root $1.
copy_with_libs() {
    local root=$1 prog=$2 lib
    install -D -m 755 "$prog" "$root/bin/$(basename "$prog")" || return 1
    for lib in $(ldd "$prog" | awk '/=>/ {print $3} /^\t\/lib/ {print $1}'); do
        # 755: the kernel opens the ELF interpreter (ld.so) with exec permission.
        [ -f "$root$lib" ] || install -D -m 755 "$lib" "$root$lib"
    done
}

# build_initramfs [SCRIPT...]: builds work/initramfs.cpio.gz: busybox, pmem-assemble, guest
# tools with their libraries, the modules in GUEST_MODULES (decompressed, with a modules.dep
# for busybox modprobe), the guest init, every scenario and the SCRIPTs given (as /lab/NAME.sh).
# Rebuilt every run: it takes a few seconds and must never be stale.
build_initramfs() {
    local k root=$WORK/initramfs m f x
    k=$(kver)
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,mnt,etc,lab,lib/modules/"$k"}
    install -m 755 /bin/busybox "$root/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
    done
    ln -s bin "$root/sbin"
    mkdir -p "$root/usr"; ln -s ../bin "$root/usr/bin"; ln -s ../bin "$root/usr/sbin"
    # tests/lab/setup's preflight has checked that every one of them is there.
    for t in $GUEST_TOOLS; do copy_with_libs "$root" "$(command -v "$t")" || return 1; done
    ln -sf mke2fs "$root/bin/mkfs.ext4"
    # cxl-cli, Debian 13's (setup unpacked it in work/cxl-cli/root): the oracle for CXL regions.
    # It runs on Debian 13's libraries, with their own loader, apart from the guest's Debian 12
    # ones: /opt/cxl/{bin,lib} and a /bin/cxl that calls it through that loader.
    cxl_cli_install "$root" || return 1
    # udev, for the scenario that plays the booted system's coldplug after an initramfs `up`:
    # systemd-udevd is udevadm under another name; the rules that decide dm readiness and links.
    mkdir -p "$root/lib/systemd" "$root/lib/udev/rules.d"
    ln -sf "$(command -v udevadm)" "$root/lib/systemd/systemd-udevd"
    for r in $GUEST_RULES; do cp "$r" "$root/lib/udev/rules.d/" || return 1; done
    sed 's|@SBINDIR@|/bin|g' "$LAB/../../assembler/udev/09-pmemtab.rules" > "$root/lab/09-pmemtab.rules.in"
    install -m 755 "$WORK/pmem-assemble" "$root/bin/pmem-assemble"
    # The KMEM scenario's memory user (std only, static, built in a second).
    rustc --edition 2021 -O -C strip=symbols --target x86_64-unknown-linux-musl \
        -o "$root/bin/lab-alloc" "$LAB/guest/alloc.rs"
    # Modules: exact files modprobe would insert (ignoring the host's install rules). 6.12's
    # are .ko.xz, which busybox insmod cannot load: they go in decompressed, as NAME.ko, and
    # depmod below writes the modules.dep that names them so.
    for m in $GUEST_MODULES $GUEST_CXL_MODULES; do
        # A module this kernel does not have (6.1: dax_cxl) is simply not there for the guest.
        modinfo -b "$KDIR/root" -k "$k" "$m" > /dev/null 2>&1 || continue
        mkdir -p "$WORK/no-modprobe.d"
        # -C: the host's modprobe.d (ndctl's install rule for libnvdimm) must not apply.
        modprobe -C "$WORK/no-modprobe.d" -d "$KDIR/root" -S "$k" --show-depends "$m" |
            awk '$1 == "insmod" {print $2}'
    done | sort -u | while read -r f; do
        x=$root/lib/modules/$k/${f#"$KDIR/root/lib/modules/$k/"}
        mkdir -p "$(dirname "$x")"
        case $f in
        *.ko.xz) xz -dc "$f" > "${x%.xz}" ;;
        *.ko.zst) zstd -qdc "$f" > "${x%.zst}" ;;
        *.ko.gz) gzip -dc "$f" > "${x%.gz}" ;;
        *) install -m 644 "$f" "$x" ;;
        esac
    done
    cp "$KDIR/root/lib/modules/$k"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$k/"
    depmod -b "$root" "$k"
    install -m 755 "$LAB/guest/init" "$root/init"
    install -m 644 "$LAB/guest/lib.sh" "$root/lab/lib.sh"
    install -m 644 "$LAB/guest/markers.sh" "$root/lab/markers.sh"
    cp "$LAB"/scenarios/*.sh "$root/lab/"
    for x in "$@"; do install -m 644 "$x" "$root/lab/$(basename "${x%.sh}").sh"; done
    echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initramfs.cpio.gz"
}

# The closure of libraries (DT_NEEDED, recursively) of ELF file $2 within the unpacked tree $1's
# library directories, one path per line; a library not found there fails.
cxl_cli_libs() {
    local tree=$1 todo=("$2") seen=" " f n l
    while [ ${#todo[@]} -gt 0 ]; do
        f=${todo[0]}; todo=("${todo[@]:1}")
        for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            case $seen in *" $n "*) continue ;; esac
            seen="$seen$n "
            l=""
            for d in usr/lib/x86_64-linux-gnu lib/x86_64-linux-gnu; do
                [ -e "$tree/$d/$n" ] && { l=$tree/$d/$n; break; }
            done
            [ -n "$l" ] || { echo "lab: cxl-cli needs $n, which none of $CXL_CLI_DEBS has (tests/lab/setup)" >&2; return 1; }
            echo "$l"
            todo+=("$l")
        done
    done
}
# cxl_cli_install ROOT: cxl-cli into the image root ROOT (see build_initramfs).
cxl_cli_install() {
    local root=$1 tree=$WORK/cxl-cli/root libs l
    [ -x "$tree/usr/bin/cxl" ] || { echo "lab: no cxl-cli in $tree (tests/lab/setup fetches it)" >&2; return 1; }
    libs=$(cxl_cli_libs "$tree" "$tree/usr/bin/cxl") || return 1
    mkdir -p "$root/opt/cxl/bin" "$root/opt/cxl/lib"
    install -m 755 "$tree/usr/bin/cxl" "$root/opt/cxl/bin/cxl"
    for l in $libs "$tree/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"; do
        install -m 755 "$(readlink -f "$l")" "$root/opt/cxl/lib/${l##*/}"
    done
    printf '#!/bin/sh\n# Debian 13'"'"'s cxl-cli on its own libraries (tests/lab/lib.sh)\nexec /opt/cxl/lib/ld-linux-x86-64.so.2 --library-path /opt/cxl/lib --argv0 cxl /opt/cxl/bin/cxl "$@"\n' > "$root/bin/cxl"
    chmod 755 "$root/bin/cxl"
}
# The packages setup fetches from Debian 13 for cxl-cli: cxl and what its libraries link
# (readelf -d, recursively: cxl_cli_libs checks it at every build).
CXL_CLI_DEBS="cxl libcxl1 libdaxctl1 libjson-c5 libtraceevent1 libtracefs1 libuuid1 libkmod2 libudev1 libc6 libgcc-s1 libcap2 liblzma5 libzstd1 libssl3t64 zlib1g"

# Fresh sparse backing files nv0, nv1 (and the numa scenario's nn0, nn1) in $DIMMS (the demo and the bench use their own dir):
# label areas zero, so the first boot must provision.
DIMMS=${DIMMS:-$WORK/dimms}
make_nvdimms() {
    local d
    mkdir -p "$DIMMS"
    for d in nv0 nv1 nn0 nn1; do
        rm -f "$DIMMS/$d"
        truncate -s "$DIMM_BYTES" "$DIMMS/$d"
    done
    rm -f "$DIMMS/km0"
    truncate -s "$KMEM_DIMM_BYTES" "$DIMMS/km0"
    # The CXL devices' files are made by the first boot that names them (cxl_args).
    rm -rf "$DIMMS"/cxl "$DIMMS"/cxl-*
}

# cxl_args NAME...: qemu arguments of the CXL machine with these type-3 devices (CXL_DEVICES),
# in this order: the i-th on root port i (port=i, slot 2+i) of one CXL host bridge, so the order
# is the order the kernel enumerates them in (a boot that swaps two swaps their memX names and
# their root ports). Backing files (sparse, made on first use) in $CXL_FILES, share=on: data and
# label areas survive from boot to boot. Sets CXL_ARGS.
cxl_args() {
    local d i=0 kind size sn dir=${CXL_FILES:-$DIMMS/cxl}
    CXL_ARGS=(-device "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1")
    mkdir -p "$dir"
    for d in "$@"; do
        read -r kind size sn < <(echo "$CXL_DEVICES" | awk -v n="$d" '$1 == n {print $2, $3, $4}')
        [ -n "$sn" ] || { echo "lab: no CXL device '$d' (CXL_DEVICES: cp0 cp1 cv0)" >&2; return 1; }
        [ -e "$dir/$d" ] || truncate -s "$size" "$dir/$d"
        CXL_ARGS+=(-object "memory-backend-file,id=cm$d,share=on,mem-path=$dir/$d,size=$size"
                   -device "cxl-rp,port=$i,bus=cxl.1,id=rp$i,chassis=0,slot=$((2 + i))")
        if [ "$kind" = pmem ]; then
            [ -e "$dir/$d.lsa" ] || truncate -s "$CXL_LSA_BYTES" "$dir/$d.lsa"
            CXL_ARGS+=(-object "memory-backend-file,id=cl$d,share=on,mem-path=$dir/$d.lsa,size=$CXL_LSA_BYTES"
                       -device "cxl-type3,bus=rp$i,persistent-memdev=cm$d,lsa=cl$d,id=cxl-$d,sn=$sn")
        else
            CXL_ARGS+=(-device "cxl-type3,bus=rp$i,volatile-memdev=cm$d,id=cxl-$d,sn=$sn")
        fi
        i=$((i + 1))
    done
    CXL_ARGS+=(-M "cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=$CXL_WINDOW")
}

# boot LOG DIMMS APPEND [DISK...]: one guest boot with the named DIMMs (comma list, e.g.
# nv0,nv1) from $DIMMS, the extra kernel arguments APPEND and each DISK as a virtio disk; the
# serial console goes to LOG (\r stripped; unbuffered, so that a log read while the guest runs
# is current: tr's 4 KiB block buffer held back the end of a slow boot, which looked like a
# hang). Returns qemu's status (124 on timeout). The DIMM's slot follows its name, so nv1
# alone is still nv1. BOOT_INITRD (default the busybox
# initramfs), BOOT_QUIET (default "quiet loglevel=3") and BOOT_TIMEOUT change the rest;
# BOOT_EXACT=1 passes APPEND alone, as the kernel command line (a boot loader's own line);
# BOOT_PIDFILE=FILE has qemu write its pid there (bench/soak cuts the power by killing it).
boot() {
    local log=$1 dimms=$2 append=$3 d n args=() rc machine=(-smp 1 -m "1G,slots=8,maxmem=8G")
    local mtype=pc,nvdimm=on cxl=()
    shift 3
    for d in ${dimms//,/ }; do
        case $d in
        cp* | cv*) cxl+=("$d") ;;
        km0)
            machine=(-smp 1 -m "1G,slots=8,maxmem=8G" -object "memory-backend-ram,id=ram0,size=1G"
                     -numa "node,nodeid=0,cpus=0,memdev=ram0" -numa "node,nodeid=1")
            args+=(-object "memory-backend-file,id=mk0,share=on,mem-path=$DIMMS/km0,size=$KMEM_DIMM_BYTES"
                   -device "nvdimm,id=km0,memdev=mk0,label-size=$LABEL_BYTES,node=1")
            ;;
        nn*)
            n=${d#nn}
            machine=("${NUMA_MACHINE[@]}")
            args+=(-object "memory-backend-file,id=mn$n,share=on,mem-path=$DIMMS/$d,size=$DIMM_BYTES"
                   -device "nvdimm,id=$d,memdev=mn$n,label-size=$LABEL_BYTES,node=$n")
            ;;
        *)
            n=${d#nv}
            args+=(-object "memory-backend-file,id=m$n,share=on,mem-path=$DIMMS/$d,size=$DIMM_BYTES"
                   -device "nvdimm,id=$d,memdev=m$n,label-size=$LABEL_BYTES")
            ;;
        esac
    done
    # The CXL machine (q35 with CXL; NVDIMMs are not on it): Debian's kernels refuse to commit a
    # region under a hypervisor ("Failed to synchronize CPU cache state"), so the CPU hides it.
    if [ ${#cxl[@]} -gt 0 ]; then
        cxl_args "${cxl[@]}" || return 1
        mtype=q35,cxl=on
        machine=(-cpu "qemu64,-hypervisor" -smp 1 -m "1G,slots=4,maxmem=8G")
        args+=("${CXL_ARGS[@]}")
        append="lab.cxl=1 $append"
    fi
    n=0
    for d in "$@"; do
        [ -n "$d" ] || continue
        n=$((n + 1))
        if [ ${#cxl[@]} -gt 0 ]; then
            # On q35 with a CXL host bridge, qemu would put it behind that bridge: on pcie.0.
            args+=(-drive "file=$d,format=raw,if=none,id=disk$n" -device "virtio-blk-pci,drive=disk$n,bus=pcie.0")
        else
            args+=(-drive "file=$d,format=raw,if=virtio")
        fi
    done
    local cmdline="console=ttyS0 panic=1 ${BOOT_QUIET-quiet loglevel=3} $append"
    [ -n "${BOOT_EXACT:-}" ] && cmdline=$append
    mkdir -p "$(dirname "$log")"
    timeout --kill-after=10 "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -machine "$mtype" \
        "${machine[@]}" "${args[@]}" \
        -kernel "$KDIR/root/boot/vmlinuz-$(kver)" -initrd "${BOOT_INITRD:-$WORK/initramfs.cpio.gz}" \
        -append "$cmdline" ${BOOT_PIDFILE:+-pidfile "$BOOT_PIDFILE"} \
        -nographic -no-reboot -nodefaults -serial stdio -display none </dev/null 2>&1 |
        stdbuf -o0 tr -d '\r' > "$log"
    rc=${PIPESTATUS[0]}
    return "$rc"
}
