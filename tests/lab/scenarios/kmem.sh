# shellcheck shell=dash
#@ boot dimms=km0
#@ boot dimms=km0 append=memhp_default_state=online
# Scenario kmem: a devdax namespace on NUMA node 1 (no CPUs, no RAM of its own) becomes
# system RAM through a system-ram entry, and comes back as /dev/daxX.Y with `down`. Oracles:
# the node's MemTotal, each memory block's state and valid_zones, and daxctl list. Boot 1
# runs with the auto-online policy off (pmem-assemble onlines), boot 2 with
# memhp_default_state=online (the kernel onlines in its own zone the moment kmem binds).
KM_UUID=5eed00ce-0000-4000-8000-00000000000a
# One entry at a time names the namespace (a namespace belongs to one entry only).
tab_ram() { echo "ram   system-ram uuid=$KM_UUID -  -  -" > /etc/pmemtab; }
tab_ramn() { echo "ramn  system-ram uuid=$KM_UUID -  -  zone=normal" > /etc/pmemtab; }
both() { [ "$1" = "$2" ] && [ "$3" = "$4" ]; }

MEM=/sys/devices/system/memory
node1_total() { awk '/MemTotal/ {print $4 * 1024; f = 1} END {if (!f) print 0}' /sys/devices/system/node/node1/meminfo 2>/dev/null || echo 0; }
node1_free() { awk '/MemFree/ {print $4 * 1024}' /sys/devices/system/node/node1/meminfo; }
# The dax device of the namespace, and its memory blocks as the kernel numbers them: those
# whose start lies in the device's range (daxctl's own rule), computed here from sysfs.
dax_dev() { ndctl list -N -v 2>/dev/null | jq -r 'if type == "array" then .[] else . end | select(.name == "km") | .daxregion.devices[0].chardev // .chardev'; }
blocks_of_dax() {
    local d=/sys/bus/dax/devices/$1 start size bs n
    start=$(printf '%d' "$(cat "$d"/resource)"); size=$(cat "$d"/size)
    bs=$(printf '%d' "0x$(cat $MEM/block_size_bytes)")
    n=$(( (start + bs - 1) / bs ))
    while [ $(( (n + 1) * bs )) -le $(( start + size )) ]; do echo "$n"; n=$((n + 1)); done
}
# zones_of DAX: "STATE:ZONE" of each block, sorted and counted ("7 online:Movable").
zones_of() {
    local n
    for n in $(blocks_of_dax "$1"); do
        echo "$(cat $MEM/memory"$n"/state 2>/dev/null || echo absent):$(cat $MEM/memory"$n"/valid_zones 2>/dev/null)"
    done | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ' | sed 's/ $//'
}
# daxctl_field DAX KEY: KEY of daxctl's object for DAX (false stays false; absent is null).
daxctl_field() { daxctl list -d "$1" 2>/dev/null | jq -r "if type == \"array\" then .[0] else . end | .$2"; }
# alloc_start MIB NAME: lab-alloc on node 1 in the background; waits until it has touched it all.
alloc_start() {
    rm -f "/tmp/$2.stop" "/tmp/$2.out"
    numactl --membind=1 lab-alloc "$1" "/tmp/$2.stop" > "/tmp/$2.out" 2>&1 &
    eval "${2}_pid=$!"
    i=0; while [ $i -lt 300 ] && ! grep -q ready "/tmp/$2.out"; do sleep 0.2; i=$((i + 1)); done
    cat "/tmp/$2.out"
}
# alloc_stop NAME: lets it check its data; returns its exit status (0: every word intact).
alloc_stop() {
    local pid
    eval "pid=\$${1}_pid"
    touch "/tmp/$1.stop"; wait "$pid"; local rc=$?
    cat "/tmp/$1.out"; return $rc
}

if [ "$LAB_BOOT" = 1 ]; then
    # Provision: one devdax namespace over the whole NVDIMM, named so the lab can find it.
    ndctl disable-region all >/dev/null 2>&1; ndctl init-labels -f all >/dev/null 2>&1; ndctl enable-region all >/dev/null 2>&1
    region=$(ndctl list -R -b ACPI.NFIT | jq -r 'if type == "array" then .[0] else . end | .dev')
    run ndctl create-namespace -r "$region" --mode=devdax --uuid=$KM_UUID --name=km
    DAX=$(dax_dev)
    NBLOCKS=$(blocks_of_dax "$DAX" | wc -l)
    BS=$(printf '%d' "0x$(cat $MEM/block_size_bytes)")
    echo "LAB-INFO kmem: $DAX target_node $(cat /sys/bus/dax/devices/"$DAX"/target_node) size $(cat /sys/bus/dax/devices/"$DAX"/size) blocks $NBLOCKS of $BS, policy $(cat $MEM/auto_online_blocks)"
    check provisioned "no devdax namespace km ($DAX, $NBLOCKS blocks)" [ -n "$DAX" -a "$NBLOCKS" -ge 6 ]
    echo offline > $MEM/auto_online_blocks

    # 1. Up in ZONE_MOVABLE, pmem-assemble onlining every block.
    tab_ram
    t0=$(node1_total)
    run pmem-assemble up ram
    check up-movable "exit $RC: $OUT" [ "$RC" = 0 ]
    t1=$(node1_total)
    echo "LAB-INFO kmem: node1 MemTotal $t0 -> $t1 bytes (expected $((NBLOCKS * BS))), up in ${CS}0 ms"
    check node-grew "node1 MemTotal $t0 -> $t1, want +$((NBLOCKS * BS))" [ $((t1 - t0)) = $((NBLOCKS * BS)) ]
    z=$(zones_of "$DAX")
    check blocks-movable "blocks: $z" [ "$z" = "$NBLOCKS online:Movable" ]
    check daxctl-system-ram "daxctl: $(daxctl list -d "$DAX" 2>&1)" [ "$(daxctl_field "$DAX" mode)" = system-ram ]
    check daxctl-online-count "daxctl online_memblocks $(daxctl_field "$DAX" online_memblocks), want $NBLOCKS" \
        both "$(daxctl_field "$DAX" online_memblocks)" "$NBLOCKS" "$(daxctl_field "$DAX" total_memblocks)" "$NBLOCKS"
    check daxctl-movable "daxctl movable $(daxctl_field "$DAX" movable)" [ "$(daxctl_field "$DAX" movable)" = true ]
    check says-what-it-did "stdout: $OUT" sh -c 'echo "$1" | grep -q "onlined as system RAM on node 1: $2 blocks"' - "$OUT" "$NBLOCKS"
    run pmem-assemble up ram
    check up-again-unchanged "exit $RC: $OUT" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "already system RAM"' - "$RC" "$OUT"
    check up-again-same-total "node1 MemTotal $(node1_total), was $t1" [ "$(node1_total)" = "$t1" ]
    run pmem-assemble status --json ram
    j=$(echo "$OUT" | jq -r '.memory[0].members[0] | "\(.mode) \(.node) \(.online_memblocks)/\(.total_memblocks) \(.zone)"' 2>&1)
    check status-json "status --json: $j" [ "$j" = "system-ram 1 $NBLOCKS/$NBLOCKS movable" ]
    run pmem-assemble status
    check status-tree "status: $OUT" sh -c 'echo "$1" | grep -q "^ram system-ram, node 1"' - "$OUT"

    # 2. Memory on node 1 is usable: a process bound there allocates and touches 128 MiB.
    f0=$(node1_free)
    alloc_start 128 a1
    f1=$(node1_free)
    echo "LAB-INFO kmem: node1 MemFree $f0 -> $f1 with 128 MiB allocated there"
    check allocates-on-node1 "node1 MemFree $f0 -> $f1" [ $((f0 - f1)) -ge $((120 << 20)) ]

    # 3. Down with that process still running: movable memory migrates to node 0, the data
    #    with it; the device comes back as /dev/DAX in devdax mode.
    run pmem-assemble down ram
    check down-movable "exit $RC: $OUT" [ "$RC" = 0 ]
    echo "LAB-INFO kmem: down with 128 MiB in use in ${CS}0 ms"
    check chardev-back "/dev/$DAX: $(ls -l /dev/"$DAX" 2>&1)" [ -c "/dev/$DAX" ]
    check daxctl-devdax "daxctl: $(daxctl list -d "$DAX" 2>&1)" [ "$(daxctl_field "$DAX" mode)" = devdax ]
    check node-empty "node1 MemTotal $(node1_total)" [ "$(node1_total)" = 0 ]
    alloc_stop a1; arc=$?
    check data-survived-migration "lab-alloc: $(cat /tmp/a1.out)" [ $arc = 0 ]

    # 4. A process holding /dev/DAX open: up refuses and leaves it in devdax mode.
    # shellcheck disable=SC2217 # sleep does not read it: the redirection only holds /dev/DAX open
    sleep 600 < "/dev/$DAX" &
    holder=$!
    run pmem-assemble up ram
    check open-refused "exit $RC: $ERR" sh -c '[ "$1" = 1 ] && echo "$2" | grep -q "in use by pid $3"' - "$RC" "$ERR" "$holder"
    check open-left-devdax "daxctl: $(daxctl_field "$DAX" mode)" [ "$(daxctl_field "$DAX" mode)" = devdax ]
    kill $holder; wait $holder 2>/dev/null

    # 5. zone=normal: the kernel may put its own data there, which pins it.
    tab_ramn
    run pmem-assemble up ramn
    check up-normal "exit $RC: $OUT" [ "$RC" = 0 ]
    z=$(zones_of "$DAX")
    check blocks-normal "blocks: $z" [ "$z" = "$NBLOCKS online:Normal" ]
    check daxctl-not-movable "daxctl movable $(daxctl_field "$DAX" movable)" [ "$(daxctl_field "$DAX" movable)" = false ]
    # A process on node 1 has its page tables there too: kernel pages that cannot move.
    alloc_start 256 a2
    run pmem-assemble down --timeout 20 ramn
    check pinned-down-fails "exit $RC: $ERR" sh -c '[ "$1" = 3 ] && echo "$2" | grep -q "cannot be offlined" && echo "$2" | grep -q "stays in system-ram mode with all its memory online"' - "$RC" "$ERR"
    echo "LAB-INFO kmem: pinned down failed in ${CS}0 ms: $ERR"
    check pinned-kernel-reason "stderr: $ERR" sh -c 'echo "$1" | grep -q "the kernel logged: unmovable page"' - "$ERR"
    z=$(zones_of "$DAX")
    check pinned-all-online "blocks: $z" [ "$z" = "$NBLOCKS online:Normal" ]
    check pinned-daxctl "daxctl: $(daxctl_field "$DAX" mode) $(daxctl_field "$DAX" online_memblocks)" \
        both "$(daxctl_field "$DAX" mode)" system-ram "$(daxctl_field "$DAX" online_memblocks)" "$NBLOCKS"
    alloc_stop a2; arc=$?
    check pinned-data-intact "lab-alloc: $(cat /tmp/a2.out)" [ $arc = 0 ]
else
    DAX=$(dax_dev)
    NBLOCKS=$(blocks_of_dax "$DAX" | wc -l)
    check policy-from-cmdline "auto_online_blocks: $(cat $MEM/auto_online_blocks)" [ "$(cat $MEM/auto_online_blocks)" = online ]
    # 6. The kernel would online the memory itself, in ZONE_NORMAL, and fill it with its own
    #    pages at once; the entry wants movable: pmem-assemble holds the policy at offline
    #    while kmem binds, onlines the blocks in ZONE_MOVABLE, and restores the policy.
    tab_ram
    run pmem-assemble up ram
    check auto-online-up "exit $RC: $OUT" [ "$RC" = 0 ]
    check auto-online-warns "stderr: $ERR" sh -c 'echo "$1" | grep -q "auto_online_blocks=online) would have onlined"' - "$ERR"
    check auto-online-restored "auto_online_blocks: $(cat $MEM/auto_online_blocks)" [ "$(cat $MEM/auto_online_blocks)" = online ]
    z=$(zones_of "$DAX")
    check auto-online-rezoned "blocks: $z" [ "$z" = "$NBLOCKS online:Movable" ]
    check auto-online-daxctl "daxctl: $(daxctl list -d "$DAX" 2>&1)" \
        both "$(daxctl_field "$DAX" movable)" true "$(daxctl_field "$DAX" online_memblocks)" "$NBLOCKS"
    run pmem-assemble down ram
    check auto-online-down "exit $RC: $OUT" both "$RC" 0 "$(test -c /dev/"$DAX" && echo yes)" yes
    # 7. online_movable and an entry that wants normal.
    echo online_movable > $MEM/auto_online_blocks
    tab_ramn
    run pmem-assemble up ramn
    check movable-policy-up "exit $RC: $OUT" [ "$RC" = 0 ]
    z=$(zones_of "$DAX")
    check movable-policy-rezoned "blocks: $z" [ "$z" = "$NBLOCKS online:Normal" ]
    check movable-policy-restored "auto_online_blocks: $(cat $MEM/auto_online_blocks)" [ "$(cat $MEM/auto_online_blocks)" = online_movable ]
    check movable-policy-node "node1 MemTotal $(node1_total)" [ "$(node1_total)" = $((NBLOCKS * $(printf '%d' "0x$(cat $MEM/block_size_bytes)"))) ]
fi
