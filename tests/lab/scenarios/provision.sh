# shellcheck shell=dash
# First boot of every lab run: label both NVDIMMs and create the namespaces in NAMESPACES with
# fixed namespace uuids and names. Asserts that ndctl then lists each as asked.
ndctl disable-region all >/dev/null 2>&1
ndctl init-labels -f all >/dev/null 2>&1
ndctl enable-region all >/dev/null 2>&1
regions=$(ndctl list -R -b ACPI.NFIT | jq -r 'if type == "array" then .[] else . end | .dev' | sort)
# shellcheck disable=SC2086 # one region name a word: the positional parameters are the list
set -- $regions
check provision-regions "want 2 NFIT regions, have: $regions" [ $# = 2 ]
ra=$1 rb=$2
echo "$NAMESPACES" | while read -r name r mode size uuid; do
    [ -n "$name" ] || continue
    if [ "$r" = a ]; then region=$ra; else region=$rb; fi
    run ndctl create-namespace -r "$region" -m "$mode" -s "$size" -u "$uuid" -n "$name"
    echo "$name $RC" >> /tmp/created
done
ns_refresh
cat /tmp/ns.tsv
echo "$NAMESPACES" | while read -r name r mode size uuid; do
    [ -n "$name" ] || continue
    RC=$(awk -v n="$name" '$1 == n {print $2}' /tmp/created)
    got_raw=$(ns_get "$name" raw_uuid); got_mode=$(ns_get "$name" mode)
    if [ "$RC" = 0 ] && [ "$got_raw" = "$uuid" ] && [ "$got_mode" = "$mode" ]; then
        pass "provision-$name"
    else
        fail "provision-$name" "create-namespace exit $RC, ndctl lists raw_uuid '$got_raw' mode '$got_mode'"
    fi
done
