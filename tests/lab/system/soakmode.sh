# shellcheck shell=dash
# bench/soak's busybox boot on the system lab's NVDIMMs, for the fault "a namespace in the wrong
# mode": reconfigures the soak's `odd` namespace (lab.ns, its uuid) in place with ndctl, to
# devdax (lab.op=wrong) or back to fsdax (lab.op=restore), keeping its uuid and name, so that
# pmemtab still finds it by uuid and must say its mode is wrong.
case ${LAB_OP:-} in wrong) mode=devdax ;; *) mode=fsdax ;; esac
ns_refresh
dev=$(awk -v u="${LAB_NS:-}" -F '\t' '$3 == u {print $6}' /tmp/ns.tsv | head -n 1)
check soak-ns-found "no namespace with raw_uuid '${LAB_NS:-}': $(tr '\n' ' ' < /tmp/ns.tsv)" [ -n "$dev" ]
run ndctl create-namespace -f -e "$dev" -m "$mode" -u "$LAB_NS" -n odd
check "soak-ns-to-$mode" "exit $RC: $OUT" [ "$RC" = 0 ]
ns_refresh
m=$(ns_get odd mode) u=$(ns_get odd raw_uuid)
check soak-ns-mode-and-uuid "ndctl list: odd mode '$m' raw_uuid '$u'" [ "$m" = "$mode" -a "$u" = "$LAB_NS" ]
