# shellcheck shell=dash
# The guests' assertion markers, one home for both guests: the busybox initramfs (/lab/markers.sh,
# sourced by /lab/lib.sh) and the system lab's Debian root (sourced by lab-report). POSIX sh
# plus `local`, which busybox ash, dash and bash all have. Markers go to stdout, the console:
#   LAB-PLAN N          this boot makes N assertions (the host fails the boot if it sees fewer)
#   LAB-PASS name       an assertion held
#   LAB-FAIL name: why  it did not
#   LAB-SAVE key=value  carried to the scenario's later boots as lab.key=value ($LAB_KEY)
plan() { echo "LAB-PLAN $1"; }
pass() { echo "LAB-PASS $1"; }
fail() { local n="$1"; shift; echo "LAB-FAIL $n: $*"; }
save() { echo "LAB-SAVE $1=$2"; }
# check NAME WHY CMD...: passes when CMD succeeds; CHECK_QUIET=1 discards CMD's output.
check() {
    local n="$1" why="$2" rc=0; shift 2
    if [ -n "${CHECK_QUIET:-}" ]; then "$@" > /dev/null 2>&1 || rc=$?; else "$@" || rc=$?; fi
    if [ "$rc" = 0 ]; then pass "$n"; else fail "$n" "$why"; fi
}
