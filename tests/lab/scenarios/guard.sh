# shellcheck shell=dash
#@ boot dimms=nv0,nv1
# Scenario 6: mkfs never eats a filesystem (issue 7). A formatted, filled stripe whose members
# are swapped is refused before anything is written, naming the member; so is the same stripe
# with another chunk size or as linear (stripe hints); restored as it was, the data is intact.
# A former `single` filesystem joining a new mkfs device is refused and stays intact. Blank
# members are formatted, and an ext4 made by hand on a stripe is accepted (no false refusal).
ns_refresh
ua=$(ns_get s6a uuid) ub=$(ns_get s6b uuid) uc=$(ns_get s6c uuid) ud=$(ns_get s6d uuid)
ue=$(ns_get s6e uuid) uf=$(ns_get s6f uuid)
ba=$(ns_get s6a blockdev) bc=$(ns_get s6c blockdev)
mkdir -p /mnt/g /mnt/solo /mnt/h
tab() { echo "$1" > /etc/pmemtab; echo "pmemtab: $1"; }
no_device() { [ -z "$(dm_names)" ] && [ ! -e "/dev/mapper/$1" ]; }
refused() { # NAME: up NAME exited 1, made no device and formatted nothing
    [ "$RC" = 1 ] && no_device "$1" && ! echo "$OUT" | grep -q ': made '
}

# 1. Blank members: formatted. Then filled.
tab "g striped:2M uuid=$ua,uuid=$ub /mnt/g ext4 mkfs"
run pmem-assemble up g
check blank-members-formatted "exit $RC: $OUT" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "g: made ext4 on /dev/mapper/g"' - "$RC" "$OUT"
run pmem-assemble mount g
sum=$(write_random /mnt/g/f 24)
check filled "no checksum (mount exit $RC)" [ -n "$sum" ]
umount /mnt/g
run pmem-assemble down g

# 2. Members swapped: the device's head is now s6b's (no signature), s6a holds the ext4.
tab "g striped:2M uuid=$ub,uuid=$ua /mnt/g ext4 mkfs"
run pmem-assemble up g
check swapped-refused "exit $RC, want 1, no device, nothing made: $OUT; dm: $(dm_names)" refused g
check swapped-names-member-and-signature "stderr: $ERR" sh -c 'echo "$1" | grep "^pmem-assemble: error: /etc/pmemtab:1: g: mkfs refused" | grep -F "member uuid=$2" | grep -F "/dev/$3" | grep -F "holds ext2/3/4" | grep -qF "wipefs -a /dev/$3"' - "$ERR" "$ua" "$ba"
check swapped-says-device-removed "stderr: $ERR" sh -c 'echo "$1" | grep -q "created was removed again"' - "$ERR"

# 3. First member still first, chunk changed: the stripe hints refuse it (with or without mkfs).
tab "g striped:4M uuid=$ua,uuid=$ub /mnt/g ext4"
run pmem-assemble up g
check chunk-changed-refused "exit $RC, want 1, no device: $OUT" refused g
check chunk-changed-says-why "stderr: $ERR" sh -c 'echo "$1" | grep -q "made for 2.00 MiB chunks over 2 members, the entry declares 4.00 MiB chunks over 2 members"' - "$ERR"
run pmem-assemble mount g
check chunk-changed-mount-fails "exit $RC, want non-zero" [ "$RC" != 0 ]
# ...and as linear over the same members.
tab "g linear uuid=$ua,uuid=$ub /mnt/g ext4 mkfs"
run pmem-assemble up g
check stripe-as-linear-refused "exit $RC, want 1, no device: $OUT" refused g
check stripe-as-linear-says-why "stderr: $ERR" sh -c 'echo "$1" | grep -q "declares no stripe"' - "$ERR"

# 4. Restored: the data is intact.
tab "g striped:2M uuid=$ua,uuid=$ub /mnt/g ext4 mkfs"
run pmem-assemble up g
check restored-up "exit $RC: $OUT" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "already holds ext2/3/4, mkfs skipped"' - "$RC" "$OUT"
run pmem-assemble mount g
check restored-mount "exit $RC: $ERR" [ "$RC" = 0 ]
check restored-data-intact "sha256 '$(sum_of /mnt/g/f)' vs '$sum'" same "$(sum_of /mnt/g/f)" "$sum"
umount /mnt/g
run pmem-assemble down g

# 5. A former single filesystem joining a new mkfs device (as its second member).
tab "solo single uuid=$uc /mnt/solo ext4 mkfs"
run pmem-assemble up solo
check single-formatted "exit $RC: $OUT" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "made ext4"' - "$RC" "$OUT"
run pmem-assemble mount solo
solosum=$(write_random /mnt/solo/f 8)
check single-filled "no checksum" [ -n "$solosum" ]
umount /mnt/solo
run pmem-assemble down solo
tab "j linear uuid=$ud,uuid=$uc /mnt/j ext4 mkfs"
run pmem-assemble up j
check single-joining-refused "exit $RC, want 1, no device: $OUT" refused j
check single-joining-names-it "stderr: $ERR" sh -c 'echo "$1" | grep "mkfs refused" | grep -F "member uuid=$2" | grep -qF "/dev/$3"' - "$ERR" "$uc" "$bc"
tab "solo single uuid=$uc /mnt/solo ext4 mkfs"
run pmem-assemble up solo
check single-again-skips-mkfs "exit $RC: $OUT" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "already holds ext2/3/4"' - "$RC" "$OUT"
run pmem-assemble mount solo
check single-data-intact "sha256 '$(sum_of /mnt/solo/f)' vs '$solosum'" same "$(sum_of /mnt/solo/f)" "$solosum"
umount /mnt/solo
run pmem-assemble down solo
# The blank namespace that was refused with it is still blank: formatted as a device of its own.
tab "j2 linear uuid=$ud /mnt/j ext4 mkfs"
run pmem-assemble up j2
check refused-blank-member-still-formattable "exit $RC: $OUT" sh -c '[ "$1" = 0 ] && echo "$2" | grep -q "made ext4"' - "$RC" "$OUT"
run pmem-assemble down j2

# 6. ext4 made by hand (no -E) on a stripe records the stripe from the device's topology, so
#    pmem-assemble accepts it: the hints check does not refuse what admins make themselves.
tab "h striped:2M uuid=$ue,uuid=$uf /mnt/h ext4"
run pmem-assemble up h
check hand-up "exit $RC: $ERR" [ "$RC" = 0 ]
# By path: busybox would run its own mke2fs applet for the bare name. 4 KiB blocks: DAX needs
# them, and mke2fs picks 1 KiB on a device this small.
run /bin/mke2fs -q -t ext4 -b 4096 /dev/mapper/h
check hand-mkfs "exit $RC: $OUT" [ "$RC" = 0 ]
run pmem-assemble down h
# mke2fs recorded the stripe (2 MiB x 2) itself: the same device declared with 4 MiB chunks is
# refused, which only a recorded stripe can cause.
tab "h striped:4M uuid=$ue,uuid=$uf /mnt/h ext4"
run pmem-assemble up h
check hand-made-records-stripe "exit $RC, want 1: $OUT" sh -c '[ "$1" = 1 ] && echo "$2" | grep -q "made for 2.00 MiB chunks over 2 members"' - "$RC" "$OUT"
tab "h striped:2M uuid=$ue,uuid=$uf /mnt/h ext4"
run pmem-assemble up h
check hand-made-accepted "exit $RC: $ERR" [ "$RC" = 0 ]
run pmem-assemble mount h
check hand-made-mounts "exit $RC: $ERR" [ "$RC" = 0 ]
umount /mnt/h
run pmem-assemble down h
check all-down "dm: $(dm_names | tr '\n' ' ')" [ -z "$(dm_names)" ]
