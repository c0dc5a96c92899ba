# shellcheck shell=dash
#@ boot dimms=nv0,nv1 append=memmap=128M!640M
# Scenario 3: linear over two namespaces, the first named by its ndctl "uuid", the second by its
# "raw_uuid"; and a memmap=-emulated legacy namespace (no uuid) named by addr=, used directly,
# published as /run/pmemtab/by-name/legacy (what the generator's mount unit mounts). First, on
# the same still-empty namespaces, a striped entry whose mkfs fails must leave no device.
ns_refresh
ua=$(ns_get s3a uuid) rb=$(ns_raw s3b)
ba=$(ns_get s3a blockdev) bb=$(ns_get s3b blockdev)
lb=$(legacy_blockdev)

# A mkfs.ext4 that fails, found first in PATH; the namespaces hold no filesystem yet, so mkfs runs.
mkdir -p /tmp/failing-mkfs
printf '#!/bin/sh\necho "stub mkfs.ext4: failing on purpose" >&2\nexit 1\n' > /tmp/failing-mkfs/mkfs.ext4
chmod +x /tmp/failing-mkfs/mkfs.ext4
echo "broken striped:2M uuid=$ua,uuid=$rb /mnt/broken ext4 mkfs" > /tmp/broken.tab
run env PATH="/tmp/failing-mkfs:$PATH" pmem-assemble --pmemtab /tmp/broken.tab up broken
check mkfs-fail-exits-3 "exit $RC, want 3: $ERR" [ "$RC" = 3 ]
check mkfs-fail-error-says-removed "stderr: $ERR" sh -c 'echo "$1" | grep "^pmem-assemble: error: /tmp/broken.tab:1: broken: mkfs.ext4 " | grep -q "removed again"' - "$ERR"
check mkfs-fail-leaves-no-device "dmsetup ls: $(dmsetup ls 2>&1); /dev/mapper: $(ls /dev/mapper)" \
    sh -c '[ -z "$(dmsetup ls 2>/dev/null | awk "NF == 2")" ] && [ ! -e /dev/mapper/broken ]'
cat > /etc/pmemtab <<TAB
cat linear uuid=$ua,uuid=$rb /mnt/cat ext4 mkfs
legacy single addr=$MEMMAP_ADDR /mnt/legacy ext4 mkfs
TAB
cat /etc/pmemtab
mkdir -p /mnt/cat /mnt/legacy

run pmem-assemble up cat
check linear-up "exit $RC: $ERR" [ "$RC" = 0 ]
actual=$(dmsetup table cat 2>&1) planned=$(pmem-assemble table cat 2>&1)
doc=$(doc_linear "$ba" "$bb")
echo "dmsetup table:"; echo "$actual"; echo "planned:"; echo "$planned"; echo "documented:"; echo "$doc"
check linear-table-equals-planned "dmsetup table '$actual' != planned '$planned'" same "$actual" "$planned"
check linear-table-equals-documented "dmsetup table '$actual' != documented '$doc'" same "$actual" "$doc"
run pmem-assemble mount cat
check linear-mount-has-dax "mount exit $RC ($ERR); /proc/mounts: $(grep /mnt/cat /proc/mounts)" mounted_dax /mnt/cat
# 40 MiB crosses the boundary between the two members (each holds ~30 MiB).
sum=$(write_random /mnt/cat/big 40)
umount /mnt/cat
run pmem-assemble mount cat
got=$(sum_of /mnt/cat/big)
check linear-data-across-members "sha256 after remount '$got', written '$sum'" same "$got" "$sum"

check legacy-present "no legacy namespace at $MEMMAP_ADDR (memmap= on the kernel command line?)" [ -n "$lb" ]
run pmem-assemble up legacy
check legacy-up "exit $RC: $ERR" [ "$RC" = 0 ]
link=/run/pmemtab/by-name/legacy
check legacy-link-points-at-namespace "$link -> '$(readlink $link)', want /dev/$lb (a block device)" \
    sh -c '[ -n "$2" ] && [ "$(readlink "$1")" = "/dev/$2" ] && [ -b "$1" ]' - "$link" "$lb"
# A link left from a boot where the namespace had another name is replaced.
ln -sfn /dev/pmem99 $link
run pmem-assemble up legacy
check legacy-stale-link-replaced "exit $RC ($ERR); $link -> '$(readlink $link)', want /dev/$lb" \
    sh -c '[ "$3" = 0 ] && [ "$(readlink "$1")" = "/dev/$2" ]' - "$link" "$lb" "$RC"
check legacy-no-dm-device "single layout made dm devices: $(dm_names | tr '\n' ' ')" [ -z "$(dm_names | grep -x legacy)" ]
run pmem-assemble mount legacy
src=$(awk '$2 == "/mnt/legacy" {print $1}' /proc/mounts)
check legacy-mounts-its-namespace "mount exit $RC ($ERR); /mnt/legacy is from '$src', want /dev/$lb" [ "$src" = "/dev/$lb" ]
check legacy-mount-has-dax "/proc/mounts: $(grep /mnt/legacy /proc/mounts)" mounted_dax /mnt/legacy
sum=$(write_random /mnt/legacy/f 16)
check legacy-write "could not write" [ -n "$sum" ]
run pmem-assemble down legacy
check legacy-down "exit $RC: $ERR" [ "$RC" = 0 ]
check legacy-down-removes-link "$link is still there: $(ls -l $link 2>&1)" sh -c '! [ -L "$1" ] && [ -b "/dev/$2" ]' - "$link" "$lb"
