# shellcheck shell=dash
#@ kernels 6.1 6.12 trixie testing sid
#@ boot dimms=cp0,cp1
# Scenario cxl-refuse: regions that exist before pmemtab runs (made by `cxl create-region`, as
# firmware or an admin would). One with the line's devices, positions, size and granularity is
# recognised and left as it is (no new region, decoders unchanged), and `down` leaves it alone
# (pmemtab did not make it). One with the devices in the other order is refused before
# anything is written: exit 1, one error line naming the line and the serials, `cxl list`
# unchanged. Oracle: cxl-cli.
tab() { echo "cxlpm cxl-pmem serial=$CP0,serial=$CP1 - - size=512M" > /etc/pmemtab; cat /etc/pmemtab; }
m0=$(mem_of "$CP0") m1=$(mem_of "$CP1")
root=$(cxl_root)
tab
run ndctl init-labels -f all

# 1. The same region, made by hand: recognised.
run cxl create-region -t pmem -m -d "$root" -w 2 -s 512M "$m0" "$m1"
check cli-create "exit $RC: $OUT" [ "$RC" = 0 ]
r=$(cxl_region_of "$CP0")
regions=$(cxl_regions); decoders=$(cxl_decoders)
run pmem-assemble up cxlpm
check same-region-recognised "exit $RC: $OUT" [ "$RC" = 0 ]
check not-remade "regions '$regions' -> '$(cxl_regions)'" same "$regions" "$(cxl_regions)"
check decoders-unchanged "cxl list -D changed" same "$decoders" "$(cxl_decoders)"
# import turns it into a line (cxl-cli's geometry), which up recognises in turn.
geom=$(cxl_geom "$r")
size=$(echo "$geom" | sed -n 's/.* size=\([0-9]*\) .*/\1/p'); gran=$(echo "$geom" | sed -n 's/.* granularity=\([0-9]*\) .*/\1/p')
want="cxl-pmem serial=$CP0,serial=$CP1 - - size=$((size >> 20))M,granularity=$gran"
: > /etc/pmemtab
run pmem-assemble import --cxl
check import-line "exit $RC, want a line ending '$want': $OUT" sh -c '[ "$1" = 0 ] && echo "$2" | grep -v "^#" | grep -qF -- "$3"' - "$RC" "$OUT" "$want"
echo "$OUT" | grep -F -- "$want" > /etc/pmemtab
cat /etc/pmemtab
run pmem-assemble up --all
check imported-line-recognised "exit $RC: $OUT; regions '$regions' -> '$(cxl_regions)'" sh -c '[ "$1" = 0 ] && [ "$2" = "$3" ]' - "$RC" "$regions" "$(cxl_regions)"
# list --cxl names each device as cxl-cli does (memdev by serial).
mine=$(pmem-assemble list --cxl --json | jq -c '[.[] | {memdev, serial}] | sort_by(.serial)')
theirs=$(cxl list -M | jq -c '[.[] | {memdev, serial}] | sort_by(.serial)')
check list-cxl-as-cxl-list "pmem-assemble list --cxl --json: $mine; cxl list -M: $theirs" same "$mine" "$theirs"
tab
run pmem-assemble status cxlpm
check status-names-region "$OUT" sh -c 'echo "$1" | grep -q "$2"' - "$OUT" "$r"
run pmem-assemble down cxlpm
check down-leaves-hand-made "exit $RC: $OUT; regions now: $(cxl_regions)" sh -c '[ "$1" = 0 ] && [ "$2" = "$3" ]' - "$RC" "$regions" "$(cxl_regions)"
run cxl destroy-region -f "$r"
check destroyed "exit $RC: $(cxl_regions)" [ "$(cxl_nregions)" = 0 ]

# 2. The devices in the other order (cp1 position 0): the line is refused, nothing written.
run cxl create-region -t pmem -m -d "$root" -w 2 -s 512M "$m1" "$m0"
check cli-create-swapped "exit $RC: $OUT" [ "$RC" = 0 ]
regions=$(cxl_regions); decoders=$(cxl_decoders)
run pmem-assemble up cxlpm
check swapped-refused "exit $RC, want 1: $ERR" [ "$RC" = 1 ]
check refusal-says-which "stderr: $ERR" sh -c 'echo "$1" | grep "^pmem-assemble: error:" | grep "cxlpm" | grep -qi "$2\|$3"' - "$ERR" "$CP0" "$CP1"
check refused-nothing-written "regions '$regions' -> '$(cxl_regions)'; decoders changed: $([ "$decoders" = "$(cxl_decoders)" ] && echo no || echo yes)" \
    sh -c '[ "$1" = "$2" ] && [ "$3" = "$4" ]' - "$regions" "$(cxl_regions)" "$decoders" "$(cxl_decoders)"
