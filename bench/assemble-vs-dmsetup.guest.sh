# shellcheck shell=dash
# Guest side of bench/assemble-vs-dmsetup (run by the lab's init, busybox sh). One boot:
# provisions one fsdax namespace per NVDIMM, then times $LAB_CYCLES cycles of each way to build
# and remove the same 2-member, 2 MiB-chunk stripe:
#   assemble: pmem-assemble up bench; pmem-assemble down bench
#   admin:    bash /lab/admin-up.sh (ndctl list | jq resolves the uuids, dmsetup create); dmsetup remove
# and prints LAB-BENCH key=value lines for the host.
N=${LAB_CYCLES:-20}
ndctl disable-region all >/dev/null 2>&1
ndctl init-labels -f all >/dev/null 2>&1
ndctl enable-region all >/dev/null 2>&1
# shellcheck disable=SC2046 # one region name a word: the positional parameters are the list
set -- $(ndctl list -R -b ACPI.NFIT | jq -r 'if type == "array" then .[] else . end | .dev' | sort)
i=0
for r in "$@"; do ndctl create-namespace -r "$r" -m fsdax -s 512M -n "bench$i" >/dev/null; i=$((i + 1)); done
ns_refresh
u0=$(ns_get bench0 uuid) u1=$(ns_get bench1 uuid)
echo "bench striped:2M uuid=$u0,uuid=$u1 - - -" > /etc/pmemtab
cat /etc/pmemtab

# What an admin's script does today, in bash as it would be written.
cat > /lab/admin-up.sh <<'SH'
#!/bin/bash
set -euo pipefail
u0=$1 u1=$2
read -r d0 d1 < <(ndctl list -N | jq -r --arg a "$u0" --arg b "$u1" \
    '(if type == "array" then .[] else . end) as $n | [$n] | map(select(.uuid == $a or .uuid == $b)) | .[] | [.uuid, .blockdev] | @tsv' |
    awk -v a="$u0" -v b="$u1" '$1 == a {x = $2} $1 == b {y = $2} END {print x, y}')
s0=$(cat /sys/block/$d0/size) s1=$(cat /sys/block/$d1/size)
min=$(( s0 < s1 ? s0 : s1 ))
per=$(( min - min % 4096 ))
dmsetup create bench --table "0 $(( per * 2 )) striped 2 4096 $(cat /sys/block/$d0/dev) 0 $(cat /sys/block/$d1/dev) 0"
SH

# One untimed round of each, and the check that both build the same device.
pmem-assemble up bench >/dev/null 2>&1; t_assemble=$(dmsetup table bench 2>&1); pmem-assemble down bench >/dev/null 2>&1
bash /lab/admin-up.sh "$u0" "$u1"; t_admin=$(dmsetup table bench 2>&1); dmsetup remove bench
echo "assemble table: $t_assemble"; echo "admin table:    $t_admin"
check bench-same-table "pmem-assemble built '$t_assemble', the admin script '$t_admin'" same "$t_assemble" "$t_admin"

bad=0 t0=$(now_cs)
i=0; while [ $i -lt "$N" ]; do
    pmem-assemble up bench >/dev/null 2>&1 || bad=$((bad + 1))
    pmem-assemble down bench >/dev/null 2>&1 || bad=$((bad + 1))
    i=$((i + 1))
done
cs_assemble=$(( $(now_cs) - t0 ))
check bench-assemble-cycles "$bad of $N up/down calls failed" [ $bad = 0 ]

bad=0 t0=$(now_cs)
i=0; while [ $i -lt "$N" ]; do
    bash /lab/admin-up.sh "$u0" "$u1" >/dev/null 2>&1 || bad=$((bad + 1))
    dmsetup remove bench >/dev/null 2>&1 || bad=$((bad + 1))
    i=$((i + 1))
done
cs_admin=$(( $(now_cs) - t0 ))
check bench-admin-cycles "$bad of $N create/remove calls failed" [ $bad = 0 ]
echo "LAB-BENCH cycles=$N assemble_cs=$cs_assemble admin_cs=$cs_admin"
