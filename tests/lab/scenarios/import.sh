# shellcheck shell=dash
#@ boot dimms=nv0,nv1
# Scenario import: devices built the way the pmem.io device-mapper guide shows (`dmsetup
# create` with tables computed from `blockdev --getsz`, ext4 made by hand, `mount -o dax`)
# become pmemtab lines through `pmem-assemble import`; those lines then rebuild the same
# tables (dmsetup table before and after) with the data intact. A table pmemtab cannot
# express (an offset inside a member) is refused with the reason.
ns_refresh
la=$(ns_get i1a blockdev) lb=$(ns_get i1b blockdev) sa=$(ns_get i2a blockdev) sb=$(ns_get i2b blockdev) pc=$(ns_get i3a blockdev)
sz() { blockdev --getsz "/dev/$1"; }
# The guide's commands, as its readers run them.
run sh -c "printf '0 %s linear /dev/$la 0\n%s %s linear /dev/$lb 0\n' $(sz "$la") $(sz "$la") $(sz "$lb") | dmsetup create linear-pmem"
run sh -c "echo '0 $(( $(sz "$sa") + $(sz "$sb") )) striped 2 4096 /dev/$sa 0 /dev/$sb 0' | dmsetup create striped-pmem"
run sh -c "echo '0 8192 linear /dev/$pc 2048' | dmsetup create part-pmem"
check guide-devices-built "dmsetup ls: $(dm_names | tr '\n' ' ')" sh -c '[ "$(dmsetup ls | grep -c pmem)" = 3 ]'
/bin/mke2fs -q -t ext4 -b 4096 -F /dev/mapper/linear-pmem
/bin/mke2fs -q -t ext4 -b 4096 -E stride=512 -F /dev/mapper/striped-pmem
mkdir -p /mnt/lin /mnt/str
mount -t ext4 -o dax /dev/mapper/linear-pmem /mnt/lin
mount -t ext4 -o dax,noatime /dev/mapper/striped-pmem /mnt/str
sum_l=$(write_random /mnt/lin/f 20) sum_s=$(write_random /mnt/str/f 40)
tl=$(dmsetup table linear-pmem) ts=$(dmsetup table striped-pmem)
echo "guide tables: linear: $tl / striped: $ts"

run pmem-assemble import
echo "LAB-INFO import printed: $(echo "$OUT" | tr '\n' '|')"
want_l="linear-pmem linear uuid=$(ns_get i1a uuid),uuid=$(ns_get i1b uuid) /mnt/lin ext4 -"
want_s="striped-pmem striped:2M uuid=$(ns_get i2a uuid),uuid=$(ns_get i2b uuid) /mnt/str ext4 noatime"
check import-linear-line "want '$want_l' in: $OUT" sh -c 'echo "$1" | grep -qxF "$2"' - "$OUT" "$want_l"
check import-striped-line "want '$want_s' in: $OUT" sh -c 'echo "$1" | grep -qxF "$2"' - "$OUT" "$want_s"
check import-refuses-offset "output: $OUT" sh -c 'echo "$1" | grep -q "^# part-pmem: not imported: target 1 maps .* from sector 2048: pmemtab maps every member from its start"' - "$OUT"
check import-exit-1-for-refused "exit $RC" [ "$RC" = 1 ]
unchanged() { [ "$(dmsetup table linear-pmem)" = "$tl" ] && [ "$(dmsetup table striped-pmem)" = "$ts" ] && is_mounted /mnt/lin; }
check import-changed-nothing "tables now: $(dmsetup table linear-pmem) / $(dmsetup table striped-pmem)" unchanged
run pmem-assemble import --json striped-pmem
check import-json "json: $OUT" sh -c 'echo "$1" | jq -e ".devices[0].status == \"importable\" and .devices[0].line == \"$2\"" >/dev/null' - "$OUT" "$want_s"

# The switch: the printed lines as /etc/pmemtab, the guide's devices removed, pmemtab's built.
# (Through a file: import reads /etc/pmemtab, which a redirection would truncate under it.)
pmem-assemble import 2>/dev/null | grep -v '^#' > /tmp/imported
mv /tmp/imported /etc/pmemtab
cat /etc/pmemtab
umount /mnt/lin; umount /mnt/str
dmsetup remove linear-pmem; dmsetup remove striped-pmem; dmsetup remove part-pmem
check guide-devices-removed "dmsetup ls: $(dm_names | tr '\n' ' ')" [ -z "$(dm_names)" ]
run pmem-assemble up linear-pmem striped-pmem
check up-from-imported-lines "exit $RC: $OUT" [ "$RC" = 0 ]
check same-linear-table "before '$tl', after '$(dmsetup table linear-pmem)'" same "$tl" "$(dmsetup table linear-pmem)"
check same-striped-table "before '$ts', after '$(dmsetup table striped-pmem)'" same "$ts" "$(dmsetup table striped-pmem)"
run pmem-assemble mount linear-pmem
run pmem-assemble mount striped-pmem
both_dax() { mounted_dax /mnt/lin && mounted_dax /mnt/str; }
check mounted-with-dax "mounts: $(grep pmem /proc/mounts)" both_dax
check data-intact "sums: $sum_l/$(sum_of /mnt/lin/f) $sum_s/$(sum_of /mnt/str/f)" sh -c '[ -n "$1" ] && [ "$1" = "$2" ] && [ -n "$3" ] && [ "$3" = "$4" ]' - "$sum_l" "$(sum_of /mnt/lin/f)" "$sum_s" "$(sum_of /mnt/str/f)"
run pmem-assemble import
check import-now-managed "output: $OUT" sh -c 'echo "$1" | grep -q "^# striped-pmem: already managed by pmemtab"' - "$OUT"
