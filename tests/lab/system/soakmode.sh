# shellcheck shell=dash
# bench/soak's busybox boot on the system lab's NVDIMMs, for the fault "a namespace in the wrong
# mode": reconfigures the soak's `odd` namespace (lab.ns, its uuid) in place with ndctl, to
# devdax (lab.op=wrong) or back to fsdax (lab.op=restore); ndctl keeps the namespace's uuid, so
# pmemtab still finds it by uuid and must say its mode is wrong. (With -u, ndctl 76 failed,
# "set_uuid failed: Invalid argument", and left the namespace in raw mode.) A raw namespace
# lists the uuid as "uuid", the others as "raw_uuid".
case ${LAB_OP:-} in wrong) mode=devdax ;; *) mode=fsdax ;; esac
ns_refresh
dev=$(awk -v u="${LAB_NS:-}" -F '\t' '$3 == u || $2 == u {print $6}' /tmp/ns.tsv | head -n 1)
check soak-ns-found "no namespace with raw_uuid '${LAB_NS:-}': $(tr '\n' ' ' < /tmp/ns.tsv)" [ -n "$dev" ]
run ndctl create-namespace -f -e "$dev" -m "$mode"
check "soak-ns-to-$mode" "exit $RC: $OUT" [ "$RC" = 0 ]
ns_refresh
m=$(awk -v d="$dev" -F '\t' '$6 == d {print $5}' /tmp/ns.tsv) u=$(awk -v d="$dev" -F '\t' '$6 == d {print $3}' /tmp/ns.tsv)
check soak-ns-mode-and-uuid "ndctl list: $dev mode '$m' raw_uuid '$u'" [ "$m" = "$mode" -a "$u" = "$LAB_NS" ]
