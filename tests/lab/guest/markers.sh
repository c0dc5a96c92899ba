# shellcheck shell=dash
# The guests' assertion markers, one home for both guests: the busybox initramfs (/lab/markers.sh,
# sourced by /lab/lib.sh) and the system lab's Debian root (sourced by lab-report). POSIX sh
# plus `local`, which busybox ash, dash and bash all have. Markers go to stdout, the console:
#   LAB-PASS name                an assertion held
#   LAB-FAIL name: why           it did not
#   LAB-SAVE key=value           carried to the scenario's later boots as lab.key=value ($LAB_KEY)
#   LAB-END run boot checks N    the script ran to its end, having made N assertions (lab_end)
# The host's one reader (tests/lab/lib.sh lab_markers) fails a boot without LAB-END (it stopped
# early, crashed or hung) or whose N is not the number of assertions it read. Each assertion is
# counted in a file, so that one made in a subshell (a pipeline's while loop) counts too.
LAB_COUNT=/run/lab-assertions
: > "$LAB_COUNT"
pass() { echo "LAB-PASS $1"; echo >> "$LAB_COUNT"; }
fail() { local n="$1"; shift; echo "LAB-FAIL $n: $*"; echo >> "$LAB_COUNT"; }
save() { echo "LAB-SAVE $1=$2"; }
# lab_end RUN BOOT [MORE]: the end marker, with the count of this boot's assertions.
lab_end() { echo "LAB-END $1 $2 checks $(wc -l < "$LAB_COUNT" | tr -d ' ')${3:+ $3}"; }
# check NAME WHY CMD...: passes when CMD succeeds; CHECK_QUIET=1 discards CMD's output.
check() {
    local n="$1" why="$2" rc=0; shift 2
    if [ -n "${CHECK_QUIET:-}" ]; then "$@" > /dev/null 2>&1 || rc=$?; else "$@" || rc=$?; fi
    if [ "$rc" = 0 ]; then pass "$n"; else fail "$n" "$why"; fi
}
