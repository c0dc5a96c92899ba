# shellcheck shell=dash
#@ kernels 6.12 trixie testing sid
#@ boot dimms=cv0
# Scenario cxl-ram: a volatile CXL expander (cv0, 512 MiB) named by serial in a system-ram line
# with zone=movable, on Debian's kernels, which online hot-added memory by themselves
# (auto_online_blocks "online": ZONE_NORMAL the moment kmem adds it; on 6.12 during the
# region's bind, on 7.2 from a probe after the bind returned). `up` makes the ram region and
# ends with every block of its dax device online and Movable (valid_zones, and the node's
# ZONE_MOVABLE in /proc/zoneinfo), the node's MemTotal grown by exactly those blocks, and the
# kernel's policy as it was; `down` takes it all back. An `up` that fails after making the
# region (kmem unavailable) never leaves the region torn down with memory online: either the
# region stays, or no memory of it is online, and the kernel lives on (a fork, then up again).
# Last, zone=normal: onlined in ZONE_NORMAL; down takes it back, or (memory the kernel pinned
# there) refuses and keeps the region with its memory online, and the kernel lives on.
# The region pmemtab makes must be the one `cxl create-region -t ram` makes (made first, with the
# kernel's onlining held so that it can be destroyed cleanly, and compared).
# Oracles: cxl-cli, the memory blocks' state and valid_zones, /proc/zoneinfo, numactl -H.
MEM=/sys/devices/system/memory
echo "expand system-ram serial=$CV0 - - zone=movable" > /etc/pmemtab
cat /etc/pmemtab
policy=$(cat $MEM/auto_online_blocks)
echo "LAB-INFO cxl-ram: cv0 ($CV0) is $(mem_of "$CV0"), auto_online_blocks $policy"
check kernel-auto-onlines "auto_online_blocks: $policy" [ "$policy" = online ]
# The dax device of the ram region, and its memory blocks (those whose start is in its range).
dax_of_region() { for d in /sys/bus/cxl/devices/"$1"/dax_region*/dax*; do [ -e "$d" ] && echo "${d##*/}"; done | head -n 1; }
blocks_of() {
    local d=/sys/bus/dax/devices/$1 start size bs n
    start=$(printf '%d' "$(cat "$d"/resource)"); size=$(cat "$d"/size)
    bs=$(printf '%d' "0x$(cat $MEM/block_size_bytes)")
    n=$(( (start + bs - 1) / bs ))
    while [ $(( (n + 1) * bs )) -le $(( start + size )) ]; do echo "$n"; n=$((n + 1)); done
}
zones() { local n; for n in $(blocks_of "$1"); do echo "$(cat $MEM/memory"$n"/state 2>/dev/null || echo absent):$(cat $MEM/memory"$n"/valid_zones 2>/dev/null)"; done | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ' | sed 's/ $//'; }
# The pages of node $1's zone $2 (present), from /proc/zoneinfo; 0 when it has none.
zone_pages() { awk -v n="$1," -v z="$2" '$1 == "Node" {on = ($2 == n && $4 == z)} on && $1 == "present" {print $2; exit}' /proc/zoneinfo | grep . || echo 0; }
node_total() { awk '/MemTotal/ {print $4 * 1024}' /sys/devices/system/node/node"$1"/meminfo 2>/dev/null || echo 0; }

echo offline > $MEM/auto_online_blocks
run cxl create-region -t ram -d "$(cxl_root)" -m "$(mem_of "$CV0")"
check cli-create-ram "exit $RC: $OUT" [ "$RC" = 0 ]
cli=$(cxl_geom "$(cxl_region_of "$CV0")")
echo "LAB-INFO cxl create-region -t ram: $cli"
run cxl destroy-region -f "$(cxl_region_of "$CV0")"
echo "$policy" > $MEM/auto_online_blocks
check cli-destroyed "exit $RC: $OUT; cxl list -R: $(cxl_regions); policy $(cat $MEM/auto_online_blocks)" [ "$RC" = 0 -a "$(cxl_nregions)" = 0 ]
run pmem-assemble up expand
check up "exit $RC in ${CS}0 ms: $OUT" [ "$RC" = 0 ]
r=$(cxl_region_of "$CV0")
g=$(cxl_geom "$r")
echo "LAB-INFO cxl-ram: region $r $g"
check same-as-cxl-create-region "pmemtab: '$g', cxl-cli: '$cli'" same "$g" "$cli"
check ram-region "cxl list: $g" sh -c 'echo "$1" | grep -q "^type=ram ways=1 .*targets=0:$2:"' - "$g" "$(dec "$CV0")"
dax=$(dax_of_region "$r")
node=$(cat /sys/bus/dax/devices/"$dax"/target_node 2>/dev/null)
nb=$(blocks_of "$dax" | wc -l)
bs=$(printf '%d' "0x$(cat $MEM/block_size_bytes)")
z=$(zones "$dax")
echo "LAB-INFO cxl-ram: $dax on node $node, $nb blocks: $z"
check blocks-online-movable "blocks: $z" [ "$nb" -ge 1 -a "$z" = "$nb online:Movable" ]
mv=$(zone_pages "$node" Movable); nm=$(zone_pages "$node" Normal)
echo "LAB-INFO cxl-ram: /proc/zoneinfo node $node: Movable present $mv, Normal present $nm"
check zoneinfo-movable "node $node Movable present $mv pages, Normal $nm, want $((nb * bs / 4096)) and 0" [ "$mv" = $((nb * bs / 4096)) -a "$nm" = 0 ]
check node-total "node $node MemTotal $(node_total "$node"), want $((nb * bs))" [ "$(node_total "$node")" = $((nb * bs)) ]
check numactl-sees-node "numactl -H: $(numactl -H 2>&1 | tr '\n' ';')" sh -c 'numactl -H | grep -q "^node $1 size: $2 MB"' - "$node" $((nb * bs >> 20))
check policy-restored "auto_online_blocks: $(cat $MEM/auto_online_blocks), was $policy" [ "$(cat $MEM/auto_online_blocks)" = "$policy" ]
before=$(cxl_decoders)
run pmem-assemble up expand
check up-again-no-change "exit $RC: $OUT" sh -c '[ "$1" = 0 ] && [ "$2" = "$3" ] && [ "$4" = 1 ]' - "$RC" "$before" "$(cxl_decoders)" "$(cxl_nregions)"
run pmem-assemble down expand
check down "exit $RC: $OUT" [ "$RC" = 0 ]
check down-leaves-nothing "cxl list -R: $(cxl_regions); node $node MemTotal $(node_total "$node")" [ "$(cxl_nregions)" = 0 ]
check down-node-empty "node $node MemTotal $(node_total "$node")" [ "$(node_total "$node")" = 0 ]
# An up that fails after it made the region: kmem unloaded and no modprobe that works (a
# PATH whose modprobe fails), so the region's dax device gets no driver and up cannot give it
# to kmem. up takes the region back; whatever it leaves, never a torn-down region with
# online memory (the 7.2 oops at the next fork). (Memory that cannot be offlined keeping
# the region is the unit tests' case: assembler/src/cxl.rs.)
echo "expand system-ram serial=$CV0 - - zone=movable" > /etc/pmemtab
# Online memory blocks on the expander's node (the kernel links each present block there).
online_on() { local b c=0; for b in /sys/devices/system/node/node"$1"/memory*; do [ "$(cat "$b"/state 2>/dev/null)" = online ] && c=$((c + 1)); done; echo $c; }
mkdir -p /tmp/nomod && printf '#!/bin/sh\nexit 1\n' > /tmp/nomod/modprobe && chmod 755 /tmp/nomod/modprobe
rmmod kmem
run env PATH="/tmp/nomod:$PATH" pmem-assemble up expand
echo "LAB-INFO cxl-ram: up without kmem: exit $RC in ${CS}0 ms: $OUT"
check up-fails-without-kmem "exit $RC: $OUT" sh -c '[ "$1" != 0 ] && echo "$2" | grep -q "kmem"' - "$RC" "$OUT"
r=$(cxl_region_of "$CV0")
on=$(online_on "$node")
echo "LAB-INFO cxl-ram: after the failed up: region '${r}', $on blocks online on node $node"
check no-online-memory-without-region "region '$r', $on online; $OUT" sh -c '[ -n "$1" ] || [ "$2" = 0 ]' - "$r" "$on"
check failed-up-took-region-back "cxl list -R: $(cxl_regions); policy $(cat $MEM/auto_online_blocks)" [ -z "$r" -a "$(cat $MEM/auto_online_blocks)" = "$policy" ]
run sh -c 'echo forked'
check kernel-lives "exit $RC: $OUT" [ "$RC" = 0 -a "$OUT" = forked ]
modprobe kmem
run pmem-assemble up expand
check up-after-failure "exit $RC: $OUT; $(zones "$(dax_of_region "$(cxl_region_of "$CV0")")")" [ "$RC" = 0 -a "$(zones "$(dax_of_region "$(cxl_region_of "$CV0")")")" = "$nb online:Movable" ]
run pmem-assemble down --all
check down-after-failure "exit $RC: $OUT; cxl list -R: $(cxl_regions); $(online_on "$node") online on node $node" [ "$RC" = 0 -a "$(cxl_nregions)" = 0 ]
# zone=normal: the same device, onlined in ZONE_NORMAL by pmem-assemble (kernel memory may land
# there), the policy restored again.
echo "expand system-ram serial=$CV0 - - zone=normal" > /etc/pmemtab
run pmem-assemble up expand
check up-normal "exit $RC: $OUT" [ "$RC" = 0 ]
r=$(cxl_region_of "$CV0"); dax=$(dax_of_region "$r"); z=$(zones "$dax")
check blocks-online-normal "blocks: $z" [ "$nb" -ge 1 -a "$z" = "$nb online:Normal" ]
check policy-restored-normal "auto_online_blocks: $(cat $MEM/auto_online_blocks), was $policy" [ "$(cat $MEM/auto_online_blocks)" = "$policy" ]
# Memory in ZONE_NORMAL may hold kernel pages by now (testing's 7.2 puts unmovable pages
# there within seconds): down takes it all back, or, when a block cannot be offlined, says
# so (exit 3) and leaves the region as it is, its memory online: never torn down under it.
run pmem-assemble down expand
r=$(cxl_region_of "$CV0"); on=$(online_on "$node")
echo "LAB-INFO cxl-ram: down of zone=normal: exit $RC, region '$r', $on blocks online on node $node"
check down-normal-or-kept "exit $RC: $OUT; cxl list -R: $(cxl_regions); $on online" sh -c '
    { [ "$1" = 0 ] && [ -z "$2" ] && [ "$3" = 0 ]; } ||
    { [ "$1" = 3 ] && [ -n "$2" ] && [ "$3" -ge 1 ] &&
      echo "$4" | grep -q "cannot be offlined.* is left as it is, not torn down"; }' - "$RC" "$r" "$on" "$OUT"
run sh -c 'echo forked'
check kernel-lives-after-down "exit $RC: $OUT" [ "$RC" = 0 -a "$OUT" = forked ]
