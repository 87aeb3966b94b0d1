# lib.sh: helpers shared by the guest scenarios: the result protocol that tests/vm_e2e.rs
# parses from the console, checked sysfs writes, and polling.
#
# Protocol, one line each:
#   RESULT step=<name> status=pass|fail [key=value]...
#   MEASURE <name>=<value>
# Values contain no spaces unless double-quoted; quote() makes any text safe to print.

# Guest scripts write DAMON sysfs; the marker exists only at the root of the test initramfs.
[ -e /damo-policy-vm-guest ] || { echo "lib.sh: not in the damo-policy test VM, refusing" >&2; exit 1; }

result() {
    _step=$1 _status=$2
    shift 2
    echo "RESULT step=$_step status=$_status $*"
}

measure() { echo "MEASURE $1=$2"; }

quote() { printf '"%s"' "$(printf '%s' "$*" | tr -d '"' | tr '\n' ' ')"; }

# sysfs_write FILE VALUE: one write(2) of VALUE. On failure SYSFS_ERROR holds "FILE: message".
sysfs_write() {
    # echo, unlike busybox printf, reports the errno of a failed write on stderr.
    if SYSFS_ERROR=$({ echo "$2" >"$1"; } 2>&1); then
        return 0
    fi
    SYSFS_ERROR="$1: ${SYSFS_ERROR:-write failed}"
    return 1
}

# wait_until SECONDS COMMAND [ARG]...: runs COMMAND every 0.2 s until it succeeds; fails after SECONDS.
wait_until() {
    _left=$(($1 * 5))
    shift
    until "$@"; do
        _left=$((_left - 1))
        [ "$_left" -gt 0 ] || return 1
        usleep 200000
    done
}
