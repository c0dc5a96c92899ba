# shellcheck shell=dash
#@ boot dimms=nv0,nv1
# Scenario 7: two pmem-assemble at once on one entry (a boot unit and an admin), over many
# rounds: two `up` both succeed with one device and the planned table; `up` racing `down` ends
# in one of the two clean states. A device left suspended (an interrupted reload) is resumed by
# `up`, and I/O to it completes. Output to a closed pipe or a full disk never panics.
ROUNDS=20
ns_refresh
ua=$(ns_get s7a uuid) ub=$(ns_get s7b uuid)
echo "r striped:2M uuid=$ua,uuid=$ub" > /etc/pmemtab
want=$(pmem-assemble table r)
echo "planned: $want"
table_is_planned() { same "$(dmsetup table r 2>/dev/null)" "$want"; }
active_not_suspended() { dmsetup info r 2>/dev/null | grep -q '^State: *ACTIVE$'; }

# Two `up` at once.
bad=0 lines=""
i=0
while [ $i -lt $ROUNDS ]; do
    i=$((i + 1))
    pmem-assemble up r > /tmp/u1 2>&1 & p1=$!
    pmem-assemble up r > /tmp/u2 2>&1 & p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    n=$(dm_names | wc -l)
    if [ $r1 != 0 ] || [ $r2 != 0 ] || [ "$n" != 1 ] || ! table_is_planned || ! active_not_suspended; then
        bad=$((bad + 1)); lines="$lines round $i: exits $r1 $r2, $n device(s): $(cat /tmp/u1 /tmp/u2 | tr '\n' ' ');"
    fi
    created=$(cat /tmp/u1 /tmp/u2 | grep -c 'r: created')
    [ "$created" = 1 ] || { bad=$((bad + 1)); lines="$lines round $i: $created creations;"; }
    pmem-assemble down r > /dev/null 2>&1
done
check two-ups-all-rounds "$bad bad of $ROUNDS:$lines" [ $bad = 0 ]
check two-ups-nothing-left "dm: $(dm_names)" [ -z "$(dm_names)" ]

# `up` racing `down`, from an active device.
bad=0 lines="" gone=0 kept=0
i=0
while [ $i -lt $ROUNDS ]; do
    i=$((i + 1))
    pmem-assemble up r > /dev/null 2>&1
    pmem-assemble down r > /tmp/d 2>&1 & pd=$!
    pmem-assemble up r > /tmp/u 2>&1 & pu=$!
    wait $pd; rd=$?
    wait $pu; ru=$?
    n=$(dm_names | wc -l)
    if [ $rd != 0 ] || [ $ru != 0 ]; then
        bad=$((bad + 1)); lines="$lines round $i: exits down $rd up $ru: $(cat /tmp/d /tmp/u | tr '\n' ' ');"
    elif [ "$n" = 0 ] && [ ! -e /dev/mapper/r ]; then
        gone=$((gone + 1))
    elif [ "$n" = 1 ] && table_is_planned && active_not_suspended && [ -b /dev/mapper/r ]; then
        kept=$((kept + 1))
    else
        bad=$((bad + 1)); lines="$lines round $i: unclean: $n device(s), table '$(dmsetup table r 2>&1)';"
    fi
    pmem-assemble down r > /dev/null 2>&1
done
echo "up racing down: $gone ended removed, $kept ended built"
check up-vs-down-all-rounds-clean "$bad bad of $ROUNDS:$lines" [ $bad = 0 ]
check up-vs-down-nothing-left "dm: $(dm_names)" [ -z "$(dm_names)" ]

# A suspended device of ours with the planned table.
run pmem-assemble up r
run dmsetup suspend r
check suspended-by-dmsetup "dmsetup info: $(dmsetup info r 2>&1 | tr '\n' ' ')" sh -c 'dmsetup info r | grep -q "^State: *SUSPENDED$"'
run pmem-assemble up r
check suspended-up-succeeds "exit $RC: $OUT" [ "$RC" = 0 ]
check suspended-up-says-resumed "stdout: $OUT" sh -c 'echo "$1" | grep -q "r: was suspended with the planned table; resumed"' - "$OUT"
check suspended-now-active "dmsetup info: $(dmsetup info r 2>&1 | tr '\n' ' ')" active_not_suspended
# I/O completes (a suspended device would block it until the timeout).
run dd if=/dev/mapper/r of=/dev/null bs=1M count=4
check suspended-io-completes "dd exit $RC" [ "$RC" = 0 ]
run pmem-assemble down r

# Output errors: a closed pipe ends quietly, a full disk is one error and exit 3.
pmem-assemble list 2>/tmp/pipe.err | head -n 1 > /dev/null
check closed-pipe-quiet "stderr: $(cat /tmp/pipe.err)" [ ! -s /tmp/pipe.err ]
pmem-assemble list > /dev/full 2> /tmp/full.err; rc=$?
check full-disk-exit-3 "exit $rc, stderr: $(cat /tmp/full.err)" sh -c '[ "$1" = 3 ] && grep -q "^pmem-assemble: error: cannot write to standard output: No space left on device" /tmp/full.err && ! grep -q panick /tmp/full.err' - "$rc"
