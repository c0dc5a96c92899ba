# shellcheck shell=dash
# Guest helpers for lab scripts (busybox ash, checked as dash: the nearest shell shellcheck knows).
# The markers (pass, fail, save, check, lab_end) are in markers.sh, copied in beside this file.
# shellcheck source=tests/lab/guest/markers.sh
. /lab/markers.sh

# The namespaces the provisioning boot creates, fixed so pmemtab lines are known in advance:
# name, region (a = NVDIMM nv0, b = nv1), mode, size, namespace uuid (ndctl's "raw_uuid").
NAMESPACES="
s1a a fsdax 192M 5eed0001-0000-4000-8000-00000000000a
s1b b fsdax 192M 5eed0001-0000-4000-8000-00000000000b
s2a a fsdax 192M 5eed0002-0000-4000-8000-00000000000a
s2b b fsdax 192M 5eed0002-0000-4000-8000-00000000000b
s3a a fsdax 32M 5eed0003-0000-4000-8000-00000000000a
s3b b fsdax 32M 5eed0003-0000-4000-8000-00000000000b
s4a a fsdax 96M 5eed0004-0000-4000-8000-00000000000a
s4b b fsdax 96M 5eed0004-0000-4000-8000-00000000000b
s5a a fsdax 192M 5eed0005-0000-4000-8000-00000000000a
s5b b fsdax 192M 5eed0005-0000-4000-8000-00000000000b
s6a a fsdax 96M 5eed0006-0000-4000-8000-00000000000a
s6b b fsdax 96M 5eed0006-0000-4000-8000-00000000000b
s6c a fsdax 64M 5eed0006-0000-4000-8000-00000000000c
s6d b fsdax 64M 5eed0006-0000-4000-8000-00000000000d
s6e a fsdax 64M 5eed0006-0000-4000-8000-00000000000e
s6f b fsdax 64M 5eed0006-0000-4000-8000-00000000000f
s7a a fsdax 32M 5eed0007-0000-4000-8000-00000000000a
s7b b fsdax 32M 5eed0007-0000-4000-8000-00000000000b
s8a a fsdax 32M 5eed0008-0000-4000-8000-00000000000a
s8b b fsdax 32M 5eed0008-0000-4000-8000-00000000000b
s9a a fsdax 32M 5eed0009-0000-4000-8000-00000000000a
s9b b fsdax 32M 5eed0009-0000-4000-8000-00000000000b
dvd a devdax 64M 5eed00dd-0000-4000-8000-00000000000a
sec a sector 64M 5eed005e-0000-4000-8000-00000000000a
i1a a fsdax 64M 5eed0010-0000-4000-8000-00000000000a
i1b b fsdax 64M 5eed0010-0000-4000-8000-00000000000b
i2a a fsdax 64M 5eed0011-0000-4000-8000-00000000000a
i2b b fsdax 64M 5eed0011-0000-4000-8000-00000000000b
i3a a fsdax 32M 5eed0012-0000-4000-8000-00000000000a
"
# The legacy memmap= namespace's physical start (tests/lab/lib.sh MEMMAP).
MEMMAP_ADDR=0x28000000

# same A B: A is not empty and equals B (for checksums and tables: empty never matches).
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }

# Centiseconds since boot, from /proc/uptime (busybox date has whole seconds only).
now_cs() {
    local up rest
    read -r up rest < /proc/uptime
    echo $(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}

# run CMD...: runs CMD, echoing it and its output to the log; sets RC, OUT (stdout+stderr),
# ERR (stderr only) and CS (elapsed centiseconds). A program (not a shell function) gets
# RUN_TIMEOUT seconds, so a hang fails its assertion instead of eating the whole boot.
RUN_TIMEOUT=60
run() {
    local t0 bound=""
    echo "+ $*"
    type "$1" 2>/dev/null | grep -q function || bound="timeout $RUN_TIMEOUT"
    t0=$(now_cs)
    $bound "$@" > /tmp/run.out 2> /tmp/run.err
    RC=$?
    CS=$(( $(now_cs) - t0 ))
    OUT=$(cat /tmp/run.out /tmp/run.err)
    # shellcheck disable=SC2034 # read by the scenarios, which shellcheck sees apart from this file
    ERR=$(cat /tmp/run.err)
    [ -n "$OUT" ] && echo "$OUT" | sed 's/^/  | /'
    echo "  = exit $RC in ${CS}0 ms"
}

# ndctl's view of the namespaces, one JSON object per line.
ns_all() { ndctl list -N -v 2>/dev/null | jq -c 'if type == "array" then .[] else . end'; }
# ns_refresh: one ndctl+jq call (each takes seconds under TCG) into /tmp/ns.tsv:
# name uuid raw_uuid blockdev mode dev chardev ("-" for absent fields).
ns_refresh() {
    ndctl list -N -v 2>/dev/null | jq -r 'if type == "array" then .[] else . end
        | [.name, .uuid, .raw_uuid, .blockdev, .mode, .dev, .chardev] | map(. // "-") | @tsv' > /tmp/ns.tsv
}
# ns_get NAME FIELD: a field (uuid raw_uuid blockdev mode dev chardev) of the namespace ndctl
# lists with that --name, from the last ns_refresh; empty if absent.
ns_get() {
    [ -f /tmp/ns.tsv ] || ns_refresh
    awk -F '\t' -v n="$1" -v f="$2" '
        BEGIN { split("name uuid raw_uuid blockdev mode dev chardev", k, " "); for (i in k) col[k[i]] = i }
        $1 == n && $col[f] != "-" { print $col[f]; exit }' /tmp/ns.tsv
}
# stripe_tab NAME NS MOUNT FS OPTS: /etc/pmemtab is NAME, a 2 MiB stripe of namespaces NSa and
# NSb by the uuid ndctl shows (fresh: ns_refresh), on MOUNT (made).
stripe_tab() {
    ns_refresh
    echo "$1 striped:2M uuid=$(ns_get "${2}a" uuid),uuid=$(ns_get "${2}b" uuid) $3 $4 $5" > /etc/pmemtab
    cat /etc/pmemtab
    mkdir -p "$3"
}
# ns_raw NAME: the fixed namespace uuid of NAME from NAMESPACES.
ns_raw() { echo "$NAMESPACES" | awk -v n="$1" '$1 == n {print $5}'; }
# The legacy namespace's block device (pmemN), found by its physical start.
legacy_blockdev() {
    local n
    for n in /sys/bus/nd/devices/namespace*; do
        [ "$(cat "$n/nstype" 2>/dev/null)" = 4 ] || continue
        [ "$(printf '%d' "$(cat "$n/resource" 2>/dev/null)")" = "$(printf '%d' $MEMMAP_ADDR)" ] || continue
        for b in "$n"/block/*; do [ -e "$b" ] && echo "${b##*/}"; break; done
    done
}

# The geometry pmemtab(5) documents, computed here independently of pmem-assemble from each
# member block device's size: striped = per-member length = smallest member rounded down to the
# chunk, all offsets 0; linear = each member rounded down to 2 MiB (4096 sectors), in order.
doc_striped() {
    local chunk=$1 min="" s b params=""
    shift
    for b in "$@"; do
        s=$(cat "/sys/block/$b/size")
        if [ -z "$min" ] || [ "$s" -lt "$min" ]; then min=$s; fi
    done
    for b in "$@"; do params="$params $(cat "/sys/block/$b/dev") 0"; done
    echo "0 $(( (min - min % chunk) * $# )) striped $# $chunk$params"
}
doc_linear() {
    local start=0 s l b
    for b in "$@"; do
        s=$(cat "/sys/block/$b/size"); l=$(( s - s % 4096 ))
        echo "$start $l linear $(cat "/sys/block/$b/dev") 0"
        start=$(( start + l ))
    done
}

# dm_dax NAME: the dm device's queue says DAX.
dm_dax() {
    local mm
    mm=$(dmsetup info -c --noheadings -o major,minor "$1" 2>/dev/null) || return 1
    [ "$(cat "/sys/dev/block/$mm/queue/dax" 2>/dev/null)" = 1 ]
}
# mounted_dax DIR: /proc/mounts has DIR with dax (ext4: dax or dax=always; xfs: dax=always).
mounted_dax() { awk -v d="$1" '$2 == d {print $4}' /proc/mounts | tr ',' '\n' | grep -qE '^dax(=always)?$'; }
is_mounted() { awk -v d="$1" '$2 == d {f = 1} END {exit !f}' /proc/mounts; }
# dm_names: the dm devices that exist, one per line (dmsetup prints "No devices found" else).
dm_names() { dmsetup ls 2>/dev/null | awk 'NF == 2 {print $1}'; }
# write_random FILE MIB: random data and its checksum (the host sees only the sum). Prints
# nothing unless FILE's directory is a mount point, so an unmounted device can never pass
# for one by writing into the initramfs.
write_random() {
    is_mounted "${1%/*}" || { echo "write_random: ${1%/*} is not mounted" >&2; return 1; }
    dd if=/dev/urandom of="$1" bs=1M count="$2" 2>/dev/null && sync && sha256sum "$1" | cut -d' ' -f1
}
# sum_of FILE: its sha256, only when its directory is a mount point.
sum_of() { is_mounted "${1%/*}" && sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
# Without udev, libdevmapper makes /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1

# CXL (the CXL machine, tests/lab/lib.sh cxl_args: cp0 serial 0x2001, cp1 0x2002 persistent,
# cv0 0x1001 volatile). cxl-cli (`cxl list`) is the oracle; sysfs only finds names.
# shellcheck disable=SC2034 # for the CXL scenarios
CP0=0x2001 CP1=0x2002 CV0=0x1001
# mem_of SERIAL: the memX with this serial (sysfs prints it 0x...), whatever this boot named it.
mem_of() {
    local m
    for m in /sys/bus/cxl/devices/mem*; do [ "$(cat "$m/serial" 2>/dev/null)" = "$1" ] && echo "${m##*/}"; done
}
# cxl_root: the root decoder (the lab has one window, for ram and pmem).
cxl_root() { cxl list -D -d root 2>/dev/null | jq -r '.[0].decoder'; }
# cxl_regions: the regions cxl-cli lists, "name type" a line (nothing when there are none). Debian
# 12's 6.1 has no region mode attribute, so cxl-cli lists no type there: "-".
cxl_regions() { cxl list -R 2>/dev/null | jq -r 'if type == "array" then .[] else . end | "\(.region) \(.type // "-")"'; }
# cxl_nregions: how many regions cxl-cli lists ("error" when it fails).
cxl_nregions() {
    local j
    j=$(cxl list -R 2>/dev/null) || { echo error; return; }
    if [ -z "$j" ]; then echo 0; else echo "$j" | jq 'if type == "array" then length else 1 end'; fi
}
# cxl_geom REGION: what cxl-cli says of it, one line: type, ways, granularity, size, decode
# state and, by position, the device's serial (decimal, as cxl list prints it) and its endpoint
# decoder's DPA (start+size): "none" when there is no such region. Two regions with the same
# line are the same region as far as the namespace labels go (the interleave-set cookie comes
# from each position's serial and DPA).
cxl_geom() {
    cxl list -vvv 2>/dev/null | jq -r --arg r "$1" '
        [.. | objects] as $all
        | ($all | map(select(.region? == $r and (.mappings | type) == "array")) | .[0]) as $R
        | if $R == null then "none" else
          "type=\($R.type // "-") ways=\($R.interleave_ways) granularity=\($R.interleave_granularity) size=\($R.size) state=\($R.decode_state) targets=" +
          ([$R.mappings[] | . as $m
             | ($all | map(select(.memdev? == $m.memdev and has("serial"))) | .[0].serial) as $s
             | ($all | map(select(.decoder? == $m.decoder and has("dpa_size"))) | .[0]) as $d
             | {p: $m.position, t: "\($m.position):\($s):\($d.dpa_resource)+\($d.dpa_size)"}]
           | sort_by(.p) | map(.t) | join(","))
          end'
}
# cxl_region_of SERIAL: the region (name) whose mappings include that device, if any.
cxl_region_of() {
    local m
    m=$(mem_of "$1")
    cxl list -vvv 2>/dev/null | jq -r --arg m "$m" '[.. | objects | select((.mappings | type) == "array") | select(any(.mappings[]; .memdev == $m)) | .region] | .[0] // empty'
}
# cxl_decoders: every decoder as cxl-cli lists it (to see that nothing changed).
cxl_decoders() { cxl list -D 2>/dev/null; }
# dec SERIAL: the serial in decimal (as cxl list prints it).
dec() { printf '%d' "$1"; }
