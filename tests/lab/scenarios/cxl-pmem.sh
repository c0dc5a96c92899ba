# shellcheck shell=dash
#@ kernels 6.1 6.12 trixie testing sid
#@ boot dimms=cp0,cp1
#@ boot dimms=cp0,cp1
#@ boot dimms=cp1,cp0
# Scenario cxl-pmem: a CXL pmem region x2 (cp0 position 0, cp1 position 1) declared by serial,
# made by `up`, with a namespace and ext4 data on it; the kernel forgets the region at every
# boot and `up` makes it again, the data intact, also when the devices come in the other order
# (boot 3: cp1 on root port 0, cp0 on port 1, other memX names). Oracle: cxl-cli. The region
# pmemtab makes must be the one `cxl create-region` makes (ways, granularity, size, each
# position's serial and DPA), which boot 1 makes first by hand and destroys again.
NS=5eedc1a0-0000-4000-8000-0000000000a1
tab() {
    printf '%s\n' "cxlpm cxl-pmem serial=$CP0,serial=$CP1 - - size=512M" \
        "cxldata single uuid=$NS /mnt/cxl ext4 mkfs" > /etc/pmemtab
    cat /etc/pmemtab
    mkdir -p /mnt/cxl
}
m0=$(mem_of "$CP0") m1=$(mem_of "$CP1")
echo "LAB-INFO cxl-pmem boot $LAB_BOOT: cp0 ($CP0) is $m0, cp1 ($CP1) is $m1"
root=$(cxl_root)
region_now() { cxl_region_of "$CP0"; }
tab

if [ "$LAB_BOOT" = 1 ]; then
    check no-region-at-boot "cxl list -R: $(cxl_regions)" [ "$(cxl_nregions)" = 0 ]
    # Provisioning, as an admin does: label areas, then the oracle's own region.
    run ndctl init-labels -f all
    run cxl create-region -t pmem -m -d "$root" -w 2 -s 512M "$m0" "$m1"
    check cli-create "exit $RC: $OUT" [ "$RC" = 0 ]
    r=$(region_now)
    cli=$(cxl_geom "$r")
    echo "LAB-INFO cxl create-region: $r $cli"
    save cligeom "$(echo "$cli" | tr ' ' '~')"
    run cxl destroy-region -f "$r"
    check cli-destroyed "exit $RC, cxl list -R: $(cxl_regions)" [ "$RC" = 0 -a "$(cxl_nregions)" = 0 ]

    run pmem-assemble up cxlpm
    check up-creates "exit $RC: $OUT" [ "$RC" = 0 ]
    r=$(region_now)
    g=$(cxl_geom "$r")
    echo "LAB-INFO pmem-assemble up: $r $g"
    check same-as-cxl-create-region "pmemtab: '$g', cxl-cli: '$cli'" same "$g" "$cli"
    check positions-by-serial "$g" sh -c 'echo "$1" | grep -q "targets=0:$2:[^,]*,1:$3:"' - "$g" "$(dec "$CP0")" "$(dec "$CP1")"
    before=$(cxl_decoders)
    run pmem-assemble up cxlpm
    check up-again-no-change "exit $RC: $OUT; decoders changed: $([ "$before" = "$(cxl_decoders)" ] && echo no || echo yes)" \
        sh -c '[ "$1" = 0 ] && [ "$2" = "$3" ] && [ "$4" = 1 ]' - "$RC" "$before" "$(cxl_decoders)" "$(cxl_nregions)"
    nd=$(ndctl list -R | jq -r '.[0].dev')
    run ndctl create-namespace -r "$nd" --mode=fsdax --uuid=$NS --name=cxlns
    check namespace "exit $RC: $OUT" [ "$RC" = 0 ]
    run pmem-assemble up --all
    check up-all "exit $RC: $OUT" [ "$RC" = 0 ]
    run pmem-assemble mount cxldata
    check mount-dax "exit $RC: $OUT; $(grep /mnt/cxl /proc/mounts)" mounted_dax /mnt/cxl
    sum=$(write_random /mnt/cxl/f 8)
    check wrote "no checksum" [ -n "$sum" ]
    save sum "$sum"
    run umount /mnt/cxl
    run pmem-assemble down --all
    check down "exit $RC: $OUT" [ "$RC" = 0 ]
    check down-leaves-no-region "cxl list -R: $(cxl_regions)" [ "$(cxl_nregions)" = 0 ]
    check down-frees-decoders "endpoint decoders with DPA: $(cxl list -D -vvv | jq -c '[.. | objects | select(has("dpa_size") and .dpa_size > 0) | .decoder]')" \
        sh -c '[ "$(cxl list -vvv | jq "[.. | objects | select(has(\"dpa_size\") and .dpa_size > 0)] | length")" = 0 ]'
    check down-no-pmem "ndctl list -N: $(ndctl list -N 2>&1)" [ -z "$(ndctl list -N 2>/dev/null)" ]
else
    cli=$(echo "$LAB_CLIGEOM" | tr '~' ' ')
    check no-region-at-boot "cxl list -R: $(cxl_regions)" [ "$(cxl_nregions)" = 0 ]
    run pmem-assemble up --all
    check up "exit $RC in ${CS}0 ms: $OUT" [ "$RC" = 0 ]
    echo "LAB-INFO cxl-pmem boot $LAB_BOOT: up in ${CS}0 ms"
    g=$(cxl_geom "$(region_now)")
    echo "LAB-INFO pmem-assemble up: $g"
    check same-region "now '$g', cxl create-region made '$cli'" same "$g" "$cli"
    check namespace-back "ndctl list -N: $(ndctl list -N -v 2>&1)" sh -c 'ndctl list -N -v | grep -q "$1"' - "$NS"
    run pmem-assemble mount cxldata
    check mount-dax "exit $RC: $OUT; $(grep /mnt/cxl /proc/mounts)" mounted_dax /mnt/cxl
    check data-intact "sha256 '$(sum_of /mnt/cxl/f)', boot 1 wrote '$LAB_SUM'" same "$(sum_of /mnt/cxl/f)" "$LAB_SUM"
    run umount /mnt/cxl
    run pmem-assemble down --all
    check down "exit $RC: $OUT" [ "$RC" = 0 ]
    check down-leaves-no-region "cxl list -R: $(cxl_regions)" [ "$(cxl_nregions)" = 0 ]
fi
