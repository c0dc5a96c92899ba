# shellcheck shell=dash
#@ boot dimms=nv0,nv1 append=lab.nodm=1
# Scenario 4d: dm-mod is absent (not loaded, its module deleted): `up` fails at once with one
# clear error about device-mapper, exit 3, instead of hanging or crashing.
ns_refresh
ua=$(ns_get s1a uuid) ub=$(ns_get s1b uuid)
echo "fast striped:2M uuid=$ua,uuid=$ub /mnt/fast ext4 mkfs" > /etc/pmemtab
check precondition-no-dm "dm-mod is loaded or /dev/mapper/control exists" \
    sh -c '! grep -q "^dm_mod " /proc/modules && [ ! -e /dev/mapper/control ]'
run pmem-assemble up fast
check nodm-exit-3 "exit $RC, want 3" [ "$RC" = 3 ]
check nodm-error-says-device-mapper "stderr: $ERR" sh -c 'echo "$1" | grep "^pmem-assemble: error:" | grep -qiE "device-mapper|dm-mod|dm_mod|mapper/control"' - "$ERR"
check nodm-quick "took ${CS}0 ms" [ "$CS" -le 1000 ]
check nodm-still-absent "dm-mod got loaded after all" sh -c '! grep -q "^dm_mod " /proc/modules'
