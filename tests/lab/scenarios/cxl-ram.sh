# shellcheck shell=dash
#@ kernels 6.12 trixie
#@ boot dimms=cv0
# Scenario cxl-ram: a volatile CXL expander (cv0, 512 MiB) named by serial in a system-ram line
# with zone=movable, on Debian's 6.12, which onlines hot-added memory by itself
# (auto_online_blocks "online": ZONE_NORMAL the moment kmem binds, as the capture shows).
# `up` makes the ram region and ends with every block of its dax device online and Movable,
# the node's MemTotal grown by exactly those blocks, and the kernel's policy as it was; `down`
# takes it all back. Oracles: cxl-cli, the memory blocks' state and valid_zones, numactl -H.
plan 15
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
node_total() { awk '/MemTotal/ {print $4 * 1024}' /sys/devices/system/node/node"$1"/meminfo 2>/dev/null || echo 0; }

run pmem-assemble up expand
check up "exit $RC in ${CS}0 ms: $OUT" [ "$RC" = 0 ]
r=$(cxl_region_of "$CV0")
g=$(cxl_geom "$r")
echo "LAB-INFO cxl-ram: region $r $g"
check ram-region "cxl list: $g" sh -c 'echo "$1" | grep -q "^type=ram ways=1 .*targets=0:$2:"' - "$g" "$(dec "$CV0")"
dax=$(dax_of_region "$r")
node=$(cat /sys/bus/dax/devices/"$dax"/target_node 2>/dev/null)
nb=$(blocks_of "$dax" | wc -l)
bs=$(printf '%d' "0x$(cat $MEM/block_size_bytes)")
z=$(zones "$dax")
echo "LAB-INFO cxl-ram: $dax on node $node, $nb blocks: $z"
check blocks-online-movable "blocks: $z" [ "$nb" -ge 1 -a "$z" = "$nb online:Movable" ]
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
# zone=normal: the same device, onlined in ZONE_NORMAL by pmem-assemble (kernel memory may land
# there), the policy restored again; down takes it back (nothing unmovable was put there yet).
echo "expand system-ram serial=$CV0 - - zone=normal" > /etc/pmemtab
run pmem-assemble up expand
check up-normal "exit $RC: $OUT" [ "$RC" = 0 ]
r=$(cxl_region_of "$CV0"); dax=$(dax_of_region "$r"); z=$(zones "$dax")
check blocks-online-normal "blocks: $z" [ "$nb" -ge 1 -a "$z" = "$nb online:Normal" ]
check policy-restored-normal "auto_online_blocks: $(cat $MEM/auto_online_blocks), was $policy" [ "$(cat $MEM/auto_online_blocks)" = "$policy" ]
run pmem-assemble down expand
check down-normal "exit $RC: $OUT; cxl list -R: $(cxl_regions)" [ "$RC" = 0 -a "$(cxl_nregions)" = 0 ]
