# shellcheck shell=dash
# Guest side of tests/lab/grub/capture-memmap: prints the firmware map and the memory-block
# size as marker lines the host turns back into files.
for d in /sys/firmware/memmap/*; do
    echo "LAB-MEMMAP ${d##*/} $(cat "$d/start") $(cat "$d/end") $(cat "$d/type")"
done
echo "LAB-BLOCK $(cat /sys/devices/system/memory/block_size_bytes)"
