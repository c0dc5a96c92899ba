# shellcheck shell=dash
#@ boot dimms=nv0,nv1
# Scenario 4e: a device built without udev (the initramfs) is ready for the booted system's
# udev: with 09-pmemtab.rules, coldplug gives it by-id/by-uuid links (A); without the rule
# 55-dm.rules disables it (B) until `up` sends a change uevent, which makes it ready (C); with
# udev running, udev makes /dev/mapper/NAME itself and `down` removes it (D); without the
# distribution's dm rules (an initrd without dracut's dm module, a root without dmsetup) and
# without systemd's 99-systemd.rules (dracut-ng 106+ images without its systemd-udevd module),
# 09-pmemtab.rules alone gives the device its name, link and systemd tag (E).
ns_refresh
# Namespaces of its own (s8, s9): no other scenario's filesystem on them.
ua=$(ns_get s8a uuid) ub=$(ns_get s8b uuid)
echo "u3 striped:2M uuid=$ua,uuid=$ub /mnt/u3 ext4 mkfs" > /etc/pmemtab
run pmem-assemble up u3
check up "exit $RC: $ERR" [ "$RC" = 0 ]
# Without udev, the link udev would make (to devtmpfs's node), so that udev can take it over.
check link-without-udev "ls: $(ls -l /dev/mapper)" sh -c '[ -b /dev/mapper/u3 ] && [ "$(readlink /dev/mapper/u3)" = "../$(basename "$(readlink "/sys/dev/block/$(cat /sys/block/dm-0/dev)")")" ]'
fsuuid=$(blkid /dev/mapper/u3 | sed -n 's/.* UUID="\([^"]*\)".*/\1/p')
echo "fs uuid $fsuuid"
cp /lab/09-pmemtab.rules.in /lib/udev/rules.d/09-pmemtab.rules
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=block
udevadm settle -t 30
udevadm info /dev/dm-0 | tee /tmp/infoA
ls -l /dev/mapper /dev/disk/by-id /dev/disk/by-uuid 2>&1
check A-not-disabled "$(grep DISABLE /tmp/infoA)" sh -c '! grep -q "DM_UDEV_DISABLE_OTHER_RULES_FLAG=1" /tmp/infoA'
check A-systemd-ready "$(grep SYSTEMD_READY /tmp/infoA)" sh -c '! grep -q "SYSTEMD_READY=0" /tmp/infoA'
check A-by-id "$(ls /dev/disk/by-id 2>&1)" [ -e /dev/disk/by-id/dm-uuid-PMEMTAB-u3 ]
check A-by-uuid "$(ls /dev/disk/by-uuid 2>&1)" [ -e "/dev/disk/by-uuid/$fsuuid" ]
# B: no rule, fresh database.
udevadm control --exit
rm -f /lib/udev/rules.d/09-pmemtab.rules
rm -rf /run/udev/data /dev/disk
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=block
udevadm settle -t 30
udevadm info /dev/dm-0 | tee /tmp/infoB
check B-coldplug-disabled-without-rule "$(grep DISABLE /tmp/infoB)" grep -q "DM_UDEV_DISABLE_OTHER_RULES_FLAG=1" /tmp/infoB
run pmem-assemble up u3
udevadm settle -t 30
udevadm info /dev/dm-0 | tee /tmp/infoC
ls -l /dev/mapper /dev/disk/by-id /dev/disk/by-uuid 2>&1
check C-up-change-ready "$(grep SYSTEMD_READY /tmp/infoC)" sh -c '! grep -q "SYSTEMD_READY=0" /tmp/infoC'
# (Without the rule the change uevent makes the device ready, so its .device unit works, but
# 60-persistent-storage-dm.rules still makes no by-id links: that is what the rule is for.)
# D: booted system, udev running with the rule: a device built now gets udev's links at once.
udevadm control --exit
cp /lab/09-pmemtab.rules.in /lib/udev/rules.d/09-pmemtab.rules
rm -rf /run/udev/data /dev/disk
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=block
udevadm settle -t 30
uc=$(ns_get s9a uuid) ud=$(ns_get s9b uuid)
echo "u4 striped:2M uuid=$uc,uuid=$ud /mnt/u4 ext4 mkfs" >> /etc/pmemtab
run pmem-assemble up u4
check D-up "exit $RC: $ERR" [ "$RC" = 0 ]
udevadm settle -t 30
udevadm info /dev/mapper/u4 | tee /tmp/infoD
ls -l /dev/mapper /dev/disk/by-id 2>&1
check D-mapper-link-by-udev "$(ls -l /dev/mapper)" [ -L /dev/mapper/u4 ]
check D-by-id "$(ls /dev/disk/by-id 2>&1)" [ -e /dev/disk/by-id/dm-uuid-PMEMTAB-u4 ]
check D-ready "$(grep -E 'SYSTEMD_READY|DISABLE' /tmp/infoD)" sh -c '! grep -qE "SYSTEMD_READY=0|DM_UDEV_DISABLE_OTHER_RULES_FLAG=1" /tmp/infoD'
run pmem-assemble down u4
udevadm settle -t 30
check D-down-link-gone "exit $RC, $(ls -l /dev/mapper)" sh -c '[ "$1" = 0 ] && [ ! -e /dev/mapper/u4 ] && [ ! -e /dev/disk/by-id/dm-uuid-PMEMTAB-u4 ]' - "$RC"
run pmem-assemble down u3
# E: only 09-pmemtab.rules (and udev's own): no 55-dm, no persistent-storage-dm, no
# 99-systemd.rules.
udevadm control --exit
rm -f /lib/udev/rules.d/55-dm.rules /lib/udev/rules.d/60-persistent-storage-dm.rules /lib/udev/rules.d/99-systemd.rules
rm -rf /run/udev/data /dev/disk
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=block
udevadm settle -t 30
run pmem-assemble up u4
check E-up "exit $RC: $ERR" [ "$RC" = 0 ]
udevadm settle -t 30
udevadm info /dev/mapper/u4 | tee /tmp/infoE
check E-udev-owns-mapper-link "$(grep '^S:' /tmp/infoE)" grep -qx 'S: mapper/u4' /tmp/infoE
check E-by-uuid-link "$(grep '^S:' /tmp/infoE)" sh -c 'grep -q "^S: disk/by-uuid/" /tmp/infoE && grep -qx "S: disk/by-id/dm-uuid-PMEMTAB-u4" /tmp/infoE'
check E-dm-name-and-uuid "$(grep DM_ /tmp/infoE)" sh -c 'grep -qx "E: DM_NAME=u4" /tmp/infoE && grep -qx "E: DM_UUID=PMEMTAB-u4" /tmp/infoE'
check E-systemd-device-ready "$(grep -E 'TAGS|SYSTEMD_READY' /tmp/infoE)" sh -c 'grep -q "^E: TAGS=.*:systemd:" /tmp/infoE && grep -qx "E: SYSTEMD_READY=1" /tmp/infoE'
run pmem-assemble down u4
udevadm settle -t 30
check E-down-link-gone "exit $RC, $(ls -l /dev/mapper)" sh -c '[ "$1" = 0 ] && [ ! -e /dev/mapper/u4 ]' - "$RC"
