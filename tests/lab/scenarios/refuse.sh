# shellcheck shell=dash
#@ boot dimms=nv0,nv1
# Scenario 4b: a devdax member and a sector member cannot serve a DAX block layout: `up` refuses
# (exit 1) with an error naming the member and its mode, and builds nothing.
ns_refresh
ud=$(ns_get dvd uuid) us=$(ns_get sec uuid)
cat > /etc/pmemtab <<TAB
dd linear uuid=$ud /mnt/dd ext4 mkfs
sc linear uuid=$us /mnt/sc ext4 mkfs
TAB
cat /etc/pmemtab
run pmem-assemble up dd
check devdax-refused "exit $RC, want 1" [ "$RC" = 1 ]
check devdax-error-names-member "stderr: $ERR" sh -c 'echo "$1" | grep "$2" | grep -q devdax' - "$ERR" "$ud"
run pmem-assemble up sc
check sector-refused "exit $RC, want 1" [ "$RC" = 1 ]
check sector-error-names-member "stderr: $ERR" sh -c 'echo "$1" | grep "$2" | grep -q sector' - "$ERR" "$us"
check refused-no-device "dmsetup ls: $(dmsetup ls 2>&1)" [ -z "$(dm_names)" ]
