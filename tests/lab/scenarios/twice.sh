# shellcheck shell=dash
#@ boot dimms=nv0,nv1
# Scenario 4c: `up` twice changes nothing (same table, same device number, same event counter);
# `down` while mounted fails, leaving the device, the mount and the data as they were.
stripe_tab t4 s4 /mnt/t4 ext4 mkfs
state() { dmsetup info t4 2>&1; dmsetup table t4 2>&1; }
run pmem-assemble up t4
check first-up "exit $RC: $ERR" [ "$RC" = 0 ]
before=$(state)
echo "$before"
run pmem-assemble up t4
check second-up-succeeds "exit $RC: $ERR" [ "$RC" = 0 ]
after=$(state)
check second-up-no-change "dmsetup info/table changed: '$before' -> '$after'" same "$before" "$after"
check still-one-device "dmsetup ls: $(dm_names | tr '\n' ' ')" [ "$(dm_names | wc -l)" = 1 ]
run pmem-assemble mount t4
check mount "exit $RC: $ERR" [ "$RC" = 0 ]
sum=$(write_random /mnt/t4/f 8)
run pmem-assemble down t4
check down-mounted-fails "exit $RC, want non-zero" [ "$RC" != 0 ]
check down-mounted-error-says-why "stderr: $ERR" sh -c 'echo "$1" | grep "^pmem-assemble: error:" | grep -qiE "mount|busy|in use|open"' - "$ERR"
check down-mounted-device-kept "dmsetup ls: $(dm_names | tr '\n' ' ')" [ -n "$(dm_names | grep -x t4)" ]
check down-mounted-data-intact "mounted: $(is_mounted /mnt/t4 && echo yes || echo no), sha256 '$(sum_of /mnt/t4/f)' vs '$sum'" \
    sh -c 'awk -v d=/mnt/t4 "\$2 == d {f = 1} END {exit !f}" /proc/mounts && [ "$(sha256sum /mnt/t4/f | cut -d" " -f1)" = "$1" ]' - "$sum"
umount /mnt/t4
run pmem-assemble down t4
check down-unmounted "exit $RC: $ERR" [ "$RC" = 0 ]
check down-removed "dmsetup ls: $(dm_names | tr '\n' ' ')" [ -z "$(dm_names)" ]
