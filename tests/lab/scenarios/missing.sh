# shellcheck shell=dash
#@ boot dimms=nv0,nv1
#@ boot dimms=nv0
# Scenario 4a: a member's NVDIMM is not attached. Boot 1 (both NVDIMMs) notes the pfn uuids
# ndctl shows; boot 2 has only nv0: `up --timeout 5` must fail within the timeout plus slack,
# name the missing uuid in a one-line error, and leave no device behind. Then the crash line
# (assembler/src/crash.rs): an `up` waiting for that member gets SIGILL, which is what a panic
# is in the static binary; it must end with one line naming the tool, the command and a bug,
# and exit 70. A signal, not a test-only path: the shipped binary has no way to crash on purpose.
TIMEOUT=5 SLACK=10
if [ "$LAB_BOOT" = 1 ]; then
    ns_refresh
    ua=$(ns_get s4a uuid) ub=$(ns_get s4b uuid)
    check members-present "ndctl shows s4a '$ua', s4b '$ub'" [ -n "$ua" -a -n "$ub" ]
    save s4a "$ua"; save s4b "$ub"
else
    echo "gone striped:2M uuid=$LAB_S4A,uuid=$LAB_S4B /mnt/gone ext4 mkfs" > /etc/pmemtab
    cat /etc/pmemtab
    run pmem-assemble up --timeout $TIMEOUT gone
    check missing-fails "exit $RC, want 1 or 3" [ "$RC" = 1 -o "$RC" = 3 ]
    check missing-names-uuid "stderr does not name $LAB_S4B: $ERR" sh -c 'echo "$1" | grep "^pmem-assemble: error:" | grep -q "$2"' - "$ERR" "$LAB_S4B"
    check missing-within-timeout "took ${CS}0 ms, limit $((TIMEOUT + SLACK)) s" [ "$CS" -le $(( (TIMEOUT + SLACK) * 100 )) ]
    check missing-no-device "dmsetup ls: $(dmsetup ls 2>&1)" [ -z "$(dm_names)" ]
    check missing-present-member-untouched "s4a's block device is held: $(echo /sys/block/*/holders/*)" \
        sh -c '! ls /sys/block/*/holders/* >/dev/null 2>&1'
    echo "+ pmem-assemble up --timeout 60 gone &; kill -ILL after 2 s"
    pmem-assemble up --timeout 60 gone 2> /tmp/crash.err &
    pid=$!
    sleep 2
    kill -ILL $pid
    wait $pid
    rc=$?
    sed 's/^/  | /' /tmp/crash.err
    echo "  = exit $rc"
    want="pmem-assemble: internal error (SIGILL) during 'up': this is a bug in pmem-assemble, please report it"
    check crash-says-internal-error "last stderr line: $(tail -n 1 /tmp/crash.err)" same "$(tail -n 1 /tmp/crash.err)" "$want"
    check crash-exit-70 "exit $rc, want 70" [ "$rc" = 70 ]
fi
