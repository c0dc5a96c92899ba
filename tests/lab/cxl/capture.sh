# shellcheck shell=dash
# Guest side of tests/lab/cxl/capture: the CXL machine's sysfs and cxl-cli's view of it, before
# and after regions are made with cxl-cli's own commands, as a tar on the virtio disk /dev/vda.
#   before/  fresh from boot: memdevs, ports, decoders, no region
#   after/   after `cxl create-region -t pmem` (x2, cp0 then cp1), `ndctl create-namespace`
#            (fsdax) on it, and `cxl create-region -t ram` over cv0 (onlined by the kernel)
# Each: sys/ (shaped like /sys, see dump_dev), cxl-list.json (`cxl list -vvv`),
# ndctl-list.json (`ndctl list -vvv -BDRN`), daxctl-list.json (`daxctl list -vvv -RDM`), uname.
CAP=/tmp/cap
NS_UUID=5eedc100-0000-4000-8000-0000000000a1

# dump_dir REAL DEST: REAL's tree (a /sys path without symlinks) under DEST/REAL: directories,
# symlinks as symlinks (their relative targets, as sysfs has them), each readable attribute with
# what the kernel returned; write-only or failing attributes are left out; power/ is skipped.
dump_dir() {
    find "$1" -name power -prune -o -print | while read -r p; do
        d=$2$p
        if [ -L "$p" ]; then
            mkdir -p "${d%/*}"; ln -sfn "$(readlink "$p")" "$d"
        elif [ -d "$p" ]; then
            mkdir -p "$d"
        elif [ -f "$p" ]; then
            mkdir -p "${d%/*}"
            timeout 2 cat "$p" > "$d" 2>/dev/null || rm -f "$d"
        fi
    done
}
# snap NAME: everything under $OUT/NAME.
snap() {
    local dest=$CAP/$1 real done_list=" " p skip t0
    t0=$(now_cs)
    mkdir -p "$dest/sys"
    # The bus directories: their device symlinks, drivers (links to bound devices).
    for b in cxl nd dax; do
        [ -d /sys/bus/$b ] || continue
        dump_dir /sys/bus/$b/devices "$dest"
        dump_dir /sys/bus/$b/drivers "$dest"
    done
    # The devices themselves, each real directory once (a child of one already dumped is in it).
    for p in $(for x in /sys/bus/cxl/devices/* /sys/bus/nd/devices/* /sys/bus/dax/devices/*; do
                   [ -e "$x" ] && readlink -f "$x"; done | sort -u); do
        skip=""
        for real in $done_list; do case $p in "$real"/*) skip=1 ;; esac; done
        [ -n "$skip" ] && continue
        dump_dir "$p" "$dest"
        done_list="$done_list$p "
    done
    # Block devices (links only; their directories are under the regions dumped above), but not
    # the lab's own results disk.
    dump_dir /sys/block "$dest"
    rm -f "$dest/sys/block/vda"
    # Memory blocks and nodes: the files the ram region's onlining shows.
    mkdir -p "$dest/sys/devices/system/memory" "$dest/sys/devices/system/node"
    for f in auto_online_blocks block_size_bytes; do cat /sys/devices/system/memory/$f > "$dest/sys/devices/system/memory/$f"; done
    for p in /sys/devices/system/memory/memory*; do
        mkdir -p "$dest$p"
        for f in state valid_zones phys_index online removable phys_device; do
            [ -f "$p/$f" ] && cat "$p/$f" > "$dest$p/$f" 2>/dev/null
        done
        for l in "$p"/node*; do [ -L "$l" ] && ln -sfn "$(readlink "$l")" "$dest$l"; done
    done
    for f in online possible has_memory has_normal_memory has_cpu; do cat /sys/devices/system/node/$f > "$dest/sys/devices/system/node/$f"; done
    for p in /sys/devices/system/node/node*; do
        mkdir -p "$dest$p"
        for f in meminfo cpulist distance; do cat "$p/$f" > "$dest$p/$f"; done
    done
    cxl list -vvv > "$dest/cxl-list.json" 2> "$dest/cxl-list.err"
    ndctl list -vvv -BDRN > "$dest/ndctl-list.json" 2>/dev/null
    daxctl list -vvv -RDM > "$dest/daxctl-list.json" 2>/dev/null
    uname -r > "$dest/uname"
    ls -l /dev/pmem* /dev/dax* /dev/cxl/* 2>/dev/null > "$dest/dev-nodes"
    cat /proc/cmdline > "$dest/cmdline"
    cat /proc/iomem > "$dest/iomem"
    [ -s "$dest/cxl-list.err" ] || rm -f "$dest/cxl-list.err"
    echo "LAB-INFO snap $1: $(find "$dest/sys" | wc -l) entries in $(( ($(now_cs) - t0) / 100 )) s"
}
# mem_of SERIAL: the memX whose serial (sysfs, as the kernel prints it: 0x...) is SERIAL.
mem_of() {
    local m
    for m in /sys/bus/cxl/devices/mem*; do [ "$(cat "$m/serial")" = "$1" ] && echo "${m##*/}"; done
}

cxl list -vvv
snap before
check before-memdevs "cxl list -M: $(cxl list -M 2>&1)" [ "$(cxl list -M | jq length)" = 3 ]
m0=$(mem_of 0x2001); m1=$(mem_of 0x2002); mv=$(mem_of 0x1001)
echo "LAB-INFO memdevs: cp0 (0x2001) $m0, cp1 (0x2002) $m1, cv0 (0x1001) $mv"
root=$(cxl list -D -d root | jq -r '.[0].decoder')
echo "LAB-INFO root decoder $root"
if [ "$LAB_BOOT" = 1 ]; then
    # Fresh label areas: ndctl's index blocks first (as for the NVDIMMs in provision.sh).
    run ndctl init-labels -f all
fi
run cxl create-region -t pmem -m -d "$root" -w 2 -s 512M "$m0" "$m1"
check create-pmem "exit $RC: $OUT" [ "$RC" = 0 ]
ndr=$(ndctl list -R | jq -r '.[0].dev')
if [ "$LAB_BOOT" = 1 ]; then
    run ndctl create-namespace -r "$ndr" --mode=fsdax --uuid=$NS_UUID --name=cxlns
else
    # Boot 2: the same devices in the same positions bring the namespace back from its labels.
    run ndctl list -N -r "$ndr"
fi
check namespace "exit $RC: $OUT" sh -c 'ndctl list -N -v | grep -q '"$NS_UUID"
run cxl create-region -t ram -m -d "$root" -w 1 "$mv"
check create-ram "exit $RC: $OUT" [ "$RC" = 0 ]
run cxl list -vvv
snap after
[ -b /dev/vda ] || echo "LAB-INFO no block device /dev/vda"
run tar cf /dev/vda -C $CAP .
check tar "exit $RC" [ "$RC" = 0 -a -b /dev/vda ]
check json "cxl list after: not JSON" sh -c "jq -e 'length > 0' $CAP/after/cxl-list.json > /dev/null"
