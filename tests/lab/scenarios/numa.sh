# shellcheck shell=dash
#@ boot dimms=nn0,nn1
# Scenario numa: a two-socket machine (nodes 0 and 1, one vCPU and 512 MiB of RAM each) with
# an NVDIMM on each node. A stripe across the nodes warns in check and up, naming each
# member's node, and is built as planned all the same; numa-mix silences it; one node per
# entry never warns. list/status --json show the nodes ndctl and daxctl show (the oracles);
# a system-ram entry publishes the node whose MemTotal grew, for memkind and numactl.
N_A0=5eed0021-0000-4000-8000-00000000000a N_B0=5eed0022-0000-4000-8000-00000000000a
N_A1=5eed0021-0000-4000-8000-00000000000b N_B1=5eed0022-0000-4000-8000-00000000000b
N_K1=5eed0023-0000-4000-8000-00000000000b

# Which region is on which node, from sysfs (not from pmem-assemble).
region_on() {
    local r
    for r in /sys/bus/nd/devices/region*; do
        [ "$(cat "$r/numa_node" 2>/dev/null)" = "$1" ] && basename "$r"
    done | head -n 1
}
ndctl disable-region all >/dev/null 2>&1; ndctl init-labels -f all >/dev/null 2>&1; ndctl enable-region all >/dev/null 2>&1
r0=$(region_on 0) r1=$(region_on 1)
echo "LAB-INFO numa: region on node 0: $r0, on node 1: $r1; CPUs on nodes $(cat /sys/devices/system/node/has_cpu)"
check two-nodes-with-cpus "regions '$r0' '$r1', has_cpu $(cat /sys/devices/system/node/has_cpu)" \
    sh -c '[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ] && [ "$(cat /sys/devices/system/node/has_cpu)" = 0-1 ]' - "$r0" "$r1"
made=0
for spec in "a0 $r0 fsdax 256M $N_A0" "b0 $r0 fsdax 256M $N_B0" "a1 $r1 fsdax 256M $N_A1" \
            "b1 $r1 fsdax 256M $N_B1" "k1 $r1 devdax 512M $N_K1"; do
    # shellcheck disable=SC2086 # the spec's words are the positional parameters
    set -- $spec
    run ndctl create-namespace -r "$2" -m "$3" -s "$4" -u "$5" -n "$1"
    [ "$RC" = 0 ] && made=$((made + 1))
done
check provisioned "$made of 5 namespaces created" [ "$made" = 5 ]
ns_refresh

# 1. The nodes: list --json against ndctl list -N -v and daxctl list.
nodes_q='if type == "array" then .[] else . end | select(.name != null) | "\(.name) \(.numa_node // -1) \(.target_node // -1)"'
mine=$(pmem-assemble list --json | jq -r "$nodes_q" | sort)
theirs=$(ndctl list -N -v | jq -r "$nodes_q" | sort)
echo "LAB-INFO numa: list --json nodes: $(echo "$mine" | tr '\n' ' ')"
echo "LAB-INFO numa: ndctl -v nodes:    $(echo "$theirs" | tr '\n' ' ')"
check json-nodes-as-ndctl "pmem-assemble: $(echo "$mine" | tr '\n' ' '); ndctl: $(echo "$theirs" | tr '\n' ' ')" same "$mine" "$theirs"
check json-nodes-two "nodes: $(echo "$mine" | tr '\n' ' ')" sh -c 'echo "$1" | grep -q "^a0 0 0$" && echo "$1" | grep -q "^a1 1 1$" && echo "$1" | grep -q "^k1 1 1$"' - "$mine"
DAX=$(ndctl list -N -v | jq -r 'if type == "array" then .[] else . end | select(.name == "k1") | .daxregion.devices[0].chardev // .chardev')
dtn=$(daxctl list -d "$DAX" | jq -r 'if type == "array" then .[0] else . end | .target_node')
check daxctl-target-node "daxctl $DAX target_node $dtn, list says $(echo "$mine" | awk '$1 == "k1" {print $3}')" \
    same "$dtn" "$(echo "$mine" | awk '$1 == "k1" {print $3}')"
run pmem-assemble list
echo "LAB-NOTE-LIST-BEGIN"; echo "$OUT"; echo "LAB-NOTE-LIST-END"
row() { echo "$OUT" | awk -v n="$1" '$(NF - 1) == n {print $7, $8}'; }
check list-text-nodes "a0: '$(row a0)', a1: '$(row a1)', k1: '$(row k1)'" \
    sh -c '[ "$1" = "0 0" ] && [ "$2" = "1 1" ] && [ "$3" = "1 1" ]' - "$(row a0)" "$(row a1)" "$(row k1)"

# 2. A stripe across the nodes: check and up warn, naming each member's node.
mixed_re='members on NUMA nodes 0,1: name=a0 (namespace[0-9.]*) on node 0, name=a1 (namespace[0-9.]*) on node 1'
echo "cross striped:2M name=a0,name=a1 - - -" > /etc/pmemtab
run pmem-assemble check
echo "LAB-NOTE-WARN $ERR"
check check-cross-warns "exit $RC: $ERR" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "warning: .*cross: $3"' - "$RC" "$ERR" "$mixed_re"
run pmem-assemble up cross
check up-cross-warns "exit $RC: $ERR" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "warning: .*cross: $3"' - "$RC" "$ERR" "$mixed_re"
want=$(doc_striped 4096 "$(ns_get a0 blockdev)" "$(ns_get a1 blockdev)")
got=$(dmsetup table cross 2>&1)
check up-cross-built-as-planned "table '$got', want '$want'" same "$got" "$want"
run pmem-assemble status --json cross
j=$(echo "$OUT" | jq -r '.devices[0].members | map("\(.numa_node)/\(.target_node)") | join(" ")' 2>&1)
check status-json-member-nodes "status --json members: $j" [ "$j" = "0/0 1/1" ]
run pmem-assemble status cross
check status-tree-member-nodes "status: $OUT" sh -c 'echo "$1" | grep -q "├─.* node 0$" && echo "$1" | grep -q "└─.* node 1$"' - "$OUT"
run pmem-assemble down cross
check down-cross "exit $RC: $OUT" [ "$RC" = 0 ]

# 3. numa-mix: the same stripe, said to be intended: no warning, the same table.
echo "cross striped:2M name=a0,name=a1 - - numa-mix" > /etc/pmemtab
run pmem-assemble check
check check-mix-silent "exit $RC: $ERR" sh -c '[ "$1" = 0 ] && ! echo "$2" | grep -q NUMA' - "$RC" "$ERR"
run pmem-assemble up cross
check up-mix-silent "exit $RC: $ERR" sh -c '[ "$1" = 0 ] && ! echo "$2" | grep -q NUMA' - "$RC" "$ERR"
check up-mix-same-table "table '$(dmsetup table cross 2>&1)'" same "$(dmsetup table cross 2>&1)" "$want"
run pmem-assemble down cross

# 4. One node per entry: silent.
printf '%s\n' "same0 striped:2M name=a0,name=b0 - - -" "same1 linear name=a1,name=b1 - - -" > /etc/pmemtab
run pmem-assemble check
check check-one-node-silent "exit $RC: $ERR" sh -c '[ "$1" = 0 ] && ! echo "$2" | grep -q NUMA' - "$RC" "$ERR"
run pmem-assemble up same0 same1
check up-one-node-silent "exit $RC: $ERR" sh -c '[ "$1" = 0 ] && ! echo "$2" | grep -q NUMA' - "$RC" "$ERR"
run pmem-assemble down same0 same1

# 5. KMEM: the published node is the node whose MemTotal grew.
totals() { for m in /sys/devices/system/node/node*/meminfo; do awk '/MemTotal/ {print $2, $4}' "$m"; done; }
echo "ram system-ram name=k1 - - -" > /etc/pmemtab
before=$(totals)
run pmem-assemble up ram
check up-ram "exit $RC: $OUT" [ "$RC" = 0 ]
after=$(totals)
grew=$(echo "$before
$after" | awk '{ if ($1 in t) { if ($2 > t[$1]) print $1 } else t[$1] = $2 }' | tr '\n' ' ' | sed 's/ $//')
env1=$(cat /run/pmemtab/kmem/ram.env 2>&1); envall=$(cat /run/pmemtab/kmem.env 2>&1)
echo "LAB-INFO numa: MemTotal grew on node '$grew'; ram.env '$env1', kmem.env '$envall'"
check env-file-written "ram.env '$env1', kmem.env '$envall'" same "$env1" "$envall"
check env-is-node-that-grew "grew on '$grew', published '$env1'" \
    sh -c '[ -n "$1" ] && [ "$2" = "MEMKIND_DAX_KMEM_NODES=$1" ]' - "$grew" "$env1"
# As a unit's EnvironmentFile= would, and numactl --membind= takes the list as it is.
# shellcheck source=/dev/null # pmem-assemble writes it in the guest
nodes=$(. /run/pmemtab/kmem.env && echo "$MEMKIND_DAX_KMEM_NODES")
run numactl --membind="$nodes" true
check numactl-takes-it "numactl --membind=$nodes: exit $RC: $OUT" [ "$RC" = 0 ]
run pmem-assemble status ram
check status-ram-nearest "status: $OUT" sh -c 'echo "$1" | grep -q "^ram system-ram, node $2, .* online, nearest CPUs on node $2, "' - "$OUT" "$grew"
run pmem-assemble down ram
check down-ram-unpublishes "exit $RC; left: $(ls /run/pmemtab/kmem /run/pmemtab/kmem.env 2>&1)" \
    sh -c '[ "$1" = 0 ] && [ ! -e /run/pmemtab/kmem/ram.env ] && [ ! -e /run/pmemtab/kmem.env ]' - "$RC"
