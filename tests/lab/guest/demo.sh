# The demo's guest side (tests/lab/demo): one boot on fresh NVDIMMs. Provisions one fsdax
# namespace per NVDIMM, writes /etc/pmemtab from the uuids ndctl shows, and runs pmem-assemble
# as an admin would. Everything between LAB-DEMO-BEGIN/END is shown on the host's terminal.
show() { echo; echo "\$ $*"; "$@" 2>&1; rc=$?; [ $rc = 0 ] || echo "(exit $rc)"; return $rc; }
plan 5
echo LAB-DEMO-BEGIN
echo "## provisioning: one 1 GiB fsdax namespace per emulated NVDIMM"
ndctl disable-region all >/dev/null 2>&1
ndctl init-labels -f all >/dev/null 2>&1
ndctl enable-region all >/dev/null 2>&1
set -- $(ndctl list -R -b ACPI.NFIT | jq -r 'if type == "array" then .[] else . end | .dev' | sort)
i=0
for r in "$@"; do
    ndctl create-namespace -r "$r" -m fsdax -s 1G -n "fast$i" >/dev/null && i=$((i + 1))
done
ns_refresh
u0=$(ns_get fast0 uuid) u1=$(ns_get fast1 uuid)
show ndctl list -N
echo
echo "## /etc/pmemtab, written from the uuids ndctl shows"
cat > /etc/pmemtab <<TAB
# name  layout      members                                    mount point  fstype  options
fast    striped:2M  uuid=$u0,uuid=$u1  /mnt/fast    ext4    mkfs,noatime
TAB
cat /etc/pmemtab
mkdir -p /mnt/fast
show pmem-assemble list
show pmem-assemble check
show pmem-assemble up fast; check demo-up "pmem-assemble up failed" [ "$rc" = 0 ]
show pmem-assemble status
show dmsetup table fast
show pmem-assemble table fast
show pmem-assemble mount fast; check demo-mount "pmem-assemble mount failed" [ "$rc" = 0 ]
show pmem-assemble status
show grep /mnt/fast /proc/mounts; check demo-dax "no dax in /proc/mounts" mounted_dax /mnt/fast
echo
echo "\$ echo 'hello from persistent memory' > /mnt/fast/hello; cat /mnt/fast/hello"
echo 'hello from persistent memory' > /mnt/fast/hello && sync
got=$(cat /mnt/fast/hello); echo "$got"
check demo-file "read back '$got'" [ "$got" = 'hello from persistent memory' ]
show df -h /mnt/fast
show umount /mnt/fast
show pmem-assemble down fast; check demo-down "pmem-assemble down failed" [ "$rc" = 0 ]
show dmsetup ls
echo LAB-DEMO-END
