# shellcheck shell=dash
#@ boot dimms=nv0,nv1
#@ boot dimms=nv0,nv1
# Scenario 1: two fsdax namespaces named by the uuid `ndctl list` shows (the pfn uuid), striped
# with a 2 MiB chunk. Boot 1: up, the kernel's table equals the planned and the documented one,
# mount with DAX (mkfs), write random data. Boot 2: up + mount again, the data's checksum matches.
stripe_tab fast s1 /mnt/fast ext4 mkfs,noatime
ba=$(ns_get s1a blockdev) bb=$(ns_get s1b blockdev)

if [ "$LAB_BOOT" = 1 ]; then
    run pmem-assemble up fast
    check up "exit $RC: $ERR" [ "$RC" = 0 ]
    actual=$(dmsetup table fast 2>&1) planned=$(pmem-assemble table fast 2>&1)
    doc=$(doc_striped 4096 "$ba" "$bb")
    echo "dmsetup table: $actual"; echo "planned:       $planned"; echo "documented:    $doc"
    check table-equals-planned "dmsetup table '$actual' != pmem-assemble table '$planned'" \
        same "$actual" "$planned"
    check table-equals-documented "dmsetup table '$actual' != documented geometry '$doc'" same "$actual" "$doc"
    dmuuid=$(dmsetup info -c --noheadings -o uuid fast 2>&1)
    check dm-uuid "dm uuid is '$dmuuid'" [ "$dmuuid" = PMEMTAB-fast ]
    check dm-queue-dax "/sys/block/dm-N/queue/dax is not 1" dm_dax fast
    run pmem-assemble mount fast
    check mount "exit $RC: $ERR" [ "$RC" = 0 ]
    echo "/proc/mounts: $(grep /mnt/fast /proc/mounts)"
    check mount-has-dax "/proc/mounts: $(grep /mnt/fast /proc/mounts)" mounted_dax /mnt/fast
    sum=$(write_random /mnt/fast/data 8)
    check write-file "could not write /mnt/fast/data" [ -n "$sum" ]
    save fast_sum "$sum"
    umount /mnt/fast
    run pmem-assemble down fast
    check down "exit $RC: $ERR" [ "$RC" = 0 ]
    check down-removed "dmsetup ls still shows: $(dm_names)" [ -z "$(dm_names | grep -x fast)" ]
else
    run pmem-assemble up fast
    check reboot-up "exit $RC: $ERR" [ "$RC" = 0 ]
    actual=$(dmsetup table fast 2>&1) planned=$(pmem-assemble table fast 2>&1)
    check reboot-table-equals-planned "dmsetup table '$actual' != '$planned'" same "$actual" "$planned"
    run pmem-assemble mount fast
    check reboot-mount "exit $RC: $ERR" [ "$RC" = 0 ]
    check reboot-mount-has-dax "/proc/mounts: $(grep /mnt/fast /proc/mounts)" mounted_dax /mnt/fast
    got=$(sum_of /mnt/fast/data)
    check reboot-checksum "sha256 '$got', written '$LAB_FAST_SUM'" same "$got" "$LAB_FAST_SUM"
fi
