# shellcheck shell=dash
#@ boot dimms=nv0,nv1
# Scenario 5: XFS with DAX on a 2 MiB striped device of ~376 MiB (small on purpose: mkfs.xfs 6.1
# wants a 64 MiB log, which a small striped device holds only with fewer allocation groups).
# XFS, unlike ext4, mounts without DAX when the device cannot do it (dmesg "Turning off DAX"),
# so /proc/mounts and dmesg are both checked.
stripe_tab xf s5 /mnt/xf xfs mkfs
run pmem-assemble up xf
check xfs-up "exit $RC: $ERR" [ "$RC" = 0 ]
actual=$(dmsetup table xf 2>&1) planned=$(pmem-assemble table xf 2>&1)
check xfs-table-equals-planned "'$actual' != '$planned'" same "$actual" "$planned"
run pmem-assemble mount xf
line=$(awk '$2 == "/mnt/xf"' /proc/mounts)
echo "/proc/mounts: $line"
check xfs-mounted "mount exit $RC ($ERR); /proc/mounts: '$line'" [ "$(echo "$line" | cut -d' ' -f3)" = xfs ]
check xfs-mount-has-dax "/proc/mounts: '$line'" mounted_dax /mnt/xf
dax_kept() { is_mounted /mnt/xf && ! dmesg | grep -q "Turning off DAX"; }
check xfs-dax-not-turned-off "mounted: $(is_mounted /mnt/xf && echo yes || echo no); dmesg: $(dmesg | grep -i 'dax' | tail -n 2)" dax_kept
sum=$(write_random /mnt/xf/f 32)
umount /mnt/xf
run pmem-assemble mount xf
got=$(sum_of /mnt/xf/f)
check xfs-data-after-remount "sha256 '$got', written '$sum'" same "$got" "$sum"
umount /mnt/xf
run pmem-assemble down xf
check xfs-down "exit $RC: $ERR" [ "$RC" = 0 ]
