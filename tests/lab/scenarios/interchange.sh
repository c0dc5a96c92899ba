# shellcheck shell=dash
#@ boot dimms=nv0,nv1
#@ boot dimms=nv0,nv1
#@ boot dimms=nv0,nv1
# Scenario 2: interchange with the standard tool, both ways.
# Boot 1: `dmsetup create` with the geometry pmemtab(5) documents, mkfs, mount -o dax, write.
# Boot 2: `pmem-assemble up` + `mount` reads that data intact, then writes more.
# Boot 3: `dmsetup create` again reads what pmem-assemble's device wrote.
# No mkfs option: pmem-assemble must use the filesystem dmsetup's device got.
stripe_tab ic s2 /mnt/ic ext4 -
ba=$(ns_get s2a blockdev) bb=$(ns_get s2b blockdev)
doc=$(doc_striped 4096 "$ba" "$bb")
echo "documented table: $doc"

case $LAB_BOOT in
1)
    run dmsetup create ic --table "$doc"
    check dmsetup-create "exit $RC: $OUT" [ "$RC" = 0 ]
    # -b 4096: DAX needs the page size; mke2fs picks 1 KiB blocks for devices under 512 MiB.
    run mkfs.ext4 -q -F -b 4096 /dev/mapper/ic
    run mount -t ext4 -o dax /dev/mapper/ic /mnt/ic
    check dmsetup-mount-dax "mount exit $RC, /proc/mounts: $(grep /mnt/ic /proc/mounts)" mounted_dax /mnt/ic
    sum=$(write_random /mnt/ic/by-dmsetup 8)
    check dmsetup-write "could not write" [ -n "$sum" ]
    save ic_sum1 "$sum"
    umount /mnt/ic
    run dmsetup remove ic
    check dmsetup-remove "exit $RC: $OUT" [ "$RC" = 0 ]
    check dmsetup-gone "dmsetup ls: $(dm_names)" [ -z "$(dm_names)" ]
    ;;
2)
    run pmem-assemble up ic
    check assemble-up "exit $RC: $ERR" [ "$RC" = 0 ]
    actual=$(dmsetup table ic 2>&1)
    check assemble-table-equals-documented "'$actual' != '$doc'" same "$actual" "$doc"
    run pmem-assemble mount ic
    check assemble-mount "exit $RC: $ERR" [ "$RC" = 0 ]
    got=$(sum_of /mnt/ic/by-dmsetup)
    check assemble-reads-dmsetup-data "sha256 '$got', written '$LAB_IC_SUM1'" same "$got" "$LAB_IC_SUM1"
    sum=$(write_random /mnt/ic/by-assemble 8)
    check assemble-write "could not write" [ -n "$sum" ]
    save ic_sum2 "$sum"
    umount /mnt/ic
    run pmem-assemble down ic
    check assemble-down "exit $RC: $ERR" [ "$RC" = 0 ]
    ;;
3)
    run dmsetup create ic --table "$doc"
    check dmsetup-create-again "exit $RC: $OUT" [ "$RC" = 0 ]
    run mount -t ext4 -o dax /dev/mapper/ic /mnt/ic
    check dmsetup-mount-again "exit $RC: $OUT" [ "$RC" = 0 ]
    got=$(sum_of /mnt/ic/by-assemble)
    check dmsetup-reads-assemble-data "sha256 '$got', written '$LAB_IC_SUM2'" same "$got" "$LAB_IC_SUM2"
    got=$(sum_of /mnt/ic/by-dmsetup)
    check dmsetup-reads-own-data "sha256 '$got', written '$LAB_IC_SUM1'" same "$got" "$LAB_IC_SUM1"
    umount /mnt/ic; dmsetup remove ic
    ;;
esac
