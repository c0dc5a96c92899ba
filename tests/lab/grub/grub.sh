# shellcheck shell=dash
# Guest side of tests/lab/grub/run (busybox ash, sourced by the lab's init as /lab/grub.sh).
# Boot 1, through GRUB without memmap=: pmemtab-memmap proposes from the live firmware map;
# the map and the proposal go to the host as marker lines.
# Boot 2, through GRUB with the linux line grub-mkconfig made from the drop-in: the legacy pmem
# is where the proposal said, pmem-assemble lists it by that addr=, and the printed pmemtab
# entry (here as /etc/pmemtab, with the drop-in, from the host's second initrd) assembles and
# mounts with DAX.
if [ "$LAB_BOOT" = 1 ]; then
    for d in /sys/firmware/memmap/*; do
        echo "LAB-MEMMAP ${d##*/} $(cat "$d/start") $(cat "$d/end") $(cat "$d/type")"
    done
    run pmemtab-memmap --size 512M
    check propose-exits-0 "exit $RC: $ERR" [ "$RC" = 0 ]
    echo "$OUT" | sed -n 's/^proposed: /LAB-PROPOSED /p'
    echo "$OUT" | grep -E '^[^#].*  single  addr=' | sed 's/^/LAB-ENTRY /'
    check propose-prints-entry "no pmemtab line in: $OUT" sh -c 'echo "$1" | grep -q "  single  addr=0x"' - "$OUT"
    return 0
fi

want=$(cat /etc/pmemtab-memmap.want)     # e.g. memmap=512M!4480M, written by the host
addr=$(awk '{print $3}' /etc/pmemtab | sed 's/^addr=//')
echo "cmdline: $(cat /proc/cmdline)"
check cmdline-has-argument "/proc/cmdline: $(cat /proc/cmdline)" sh -c 'tr " " "\n" < /proc/cmdline | grep -qxF "$1"' - "$want"
check cmdline-has-users-dollar 'no memmap=64M$0x30000000 (GRUB ate the \$?)' sh -c 'tr " " "\n" < /proc/cmdline | grep -qxF "memmap=64M\$0x30000000"'
ns=""
for n in /sys/bus/nd/devices/namespace*; do
    [ "$(cat "$n/nstype" 2>/dev/null)" = 4 ] || continue
    [ "$(printf '%d' "$(cat "$n/resource")")" = "$(printf '%d' "$addr")" ] && ns=$n
done
echo "legacy namespaces: $(for n in /sys/bus/nd/devices/namespace*; do echo "${n##*/} $(cat "$n"/resource 2>/dev/null) $(cat "$n"/size 2>/dev/null)"; done | tr '\n' ';')"
check legacy-pmem-at-proposed-address "no legacy namespace at $addr" [ -n "$ns" ]
check legacy-pmem-has-proposed-size "size $(cat "$ns/size" 2>/dev/null), want 536870912" [ "$(cat "$ns/size" 2>/dev/null)" = 536870912 ]
grep -q "Persistent Memory (legacy)" /proc/iomem && grep "Persistent Memory (legacy)" /proc/iomem
run pmem-assemble list
check list-shows-addr "pmem-assemble list: $OUT" sh -c 'echo "$1" | grep -q "fsdax (legacy) .* addr=$2 "' - "$OUT" "$addr"
run pmemtab-memmap --size 512M
check second-run-same-proposal "exit $RC: $OUT" sh -c 'echo "$1" | grep -qxF "proposed: $2"' - "$OUT" "$want"
cat /etc/pmemtab
name=$(awk '{print $1}' /etc/pmemtab) mnt=$(awk '{print $4}' /etc/pmemtab)
mkdir -p "$mnt"
run pmem-assemble check
check pmemtab-check-ok "exit $RC: $OUT" [ "$RC" = 0 ]
run pmem-assemble up "$name"
check entry-up "exit $RC: $ERR" [ "$RC" = 0 ]
check entry-made-ext4 "up said: $OUT" sh -c 'echo "$1" | grep -q "made ext4"' - "$OUT"
run pmem-assemble mount "$name"
check entry-mount-exits-0 "exit $RC: $ERR" [ "$RC" = 0 ]
check entry-mounted-with-dax "/proc/mounts: $(grep " $mnt " /proc/mounts)" mounted_dax "$mnt"
sum=$(write_random "$mnt/f" 64)
umount "$mnt"
run pmem-assemble mount "$name"
check entry-data-survives-remount "sha256 '$(sum_of "$mnt/f")' vs '$sum'" same "$(sum_of "$mnt/f")" "$sum"
