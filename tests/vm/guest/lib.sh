# lib.sh: helpers shared by the guest scenarios: the result protocol that tests/vm/harness.rs
# parses, checked sysfs writes, polling, the damo-policy wrapper, workloads, cgroups and the
# host's damo run in the guest.
#
# Protocol, one line each, printed on the console and on the results port (/dev/ttyS1):
#   RESULT step=<name> status=pass|fail [key=value]...
#   RESULT step=<name> status=skip reason=<why the step could not run here>
#   MEASURE <name>=<value>
#   JSON <name> <a JSON document on one line>
# Values contain no spaces unless double-quoted; quote() makes any text safe to print.

# Guest scripts write DAMON sysfs; the marker exists only at the root of the test initramfs.
[ -e /damo-policy-vm-guest ] || { echo "lib.sh: not in the damo-policy test VM, refusing" >&2; exit 1; }

ADMIN=/sys/kernel/mm/damon/admin
RESULTS_PORT=/dev/ttyS1
export NO_COLOR=1

emit() {
    echo "$*"
    [ -c $RESULTS_PORT ] && echo "$*" >$RESULTS_PORT
}

result() {
    _step=$1 _status=$2
    shift 2
    emit "RESULT step=$_step status=$_status $*"
}

measure() { emit "MEASURE $1=$2"; }

# json NAME FILE: FILE's JSON document as one line (JSON strings hold no raw newlines).
json() { emit "JSON $1 $(tr -d '\n' <"$2")"; }

# json_file NAME FILE: FILE's bytes as {"base64": …}, for files that are not text (records).
json_file() { emit "JSON $1 {\"base64\":\"$(base64 "$2" | tr -d '\n')\"}"; }

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

# Hundredths of a second since boot (busybox's date has no nanoseconds).
now_cs() { tr -d '.' </proc/uptime | cut -d' ' -f1; }

# dp COMMAND ARGS...: damo-policy on the guest's DAMON, every root given explicitly, with
# the ownership record in $DP_STATE. Output: $DP_OUT (stdout), $DP_ERR (stderr), $DP_RC;
# $DP_MS: the command's wall time in ms (10 ms resolution).
DP_STATE=/run/damo-policy
dp() {
    _t0=$(now_cs)
    /bin/damo-policy "$@" --sysfs-root $ADMIN --module-root /sys/module --proc-root /proc \
        --cgroup-root /sys/fs/cgroup --system-root /sys/devices/system \
        --state-dir "$DP_STATE" >/tmp/dp.out 2>/tmp/dp.err
    DP_RC=$?
    DP_MS=$((($(now_cs) - _t0) * 10))
    DP_OUT=$(cat /tmp/dp.out)
    DP_ERR=$(cat /tmp/dp.err)
    # For the log: what each command did.
    echo "+ damo-policy $* -> exit $DP_RC (${DP_MS} ms)"
    [ -n "$DP_OUT" ] && echo "$DP_OUT" | sed 's/^/  | /' | head -n 40
    [ -n "$DP_ERR" ] && echo "$DP_ERR" | sed 's/^/  ! /' | head -n 40
    return $DP_RC
}

# applied_writes: N of "applied: N write(s)" in the last dp output, else -1. That line is
# apply's text output; with --format json the count is the document's `applied.writes`.
applied_writes() {
    _n=$(echo "$DP_OUT" | sed -n 's/^applied: \([0-9]*\) write.*/\1/p')
    echo "${_n:--1}"
}

# plan_ops: the number of operations of the `plan --format json` in the last dp output.
plan_ops() { echo "$DP_OUT" | grep -c '"path":'; }

# kd SLOT FILE: a file of kdamond SLOT (relative to kdamonds/SLOT/).
kd() { cat $ADMIN/kdamonds/$1/$2 2>/dev/null; }

# kdamonds_summary: "slot:state:pid ..." for every kdamond, to compare before and after.
kdamonds_summary() {
    _nr=$(cat $ADMIN/kdamonds/nr_kdamonds)
    _k=0 _out=
    while [ $_k -lt "$_nr" ]; do
        _out="$_out $_k:$(kd $_k state):$(kd $_k pid)"
        _k=$((_k + 1))
    done
    echo "${_out# }"
}

# damon_reset: turns every kdamond off, removes them all and forgets the ownership record,
# so the next scenario starts from a clean kernel.
damon_reset() {
    _nr=$(cat $ADMIN/kdamonds/nr_kdamonds)
    _k=0
    while [ $_k -lt "$_nr" ]; do
        [ "$(kd $_k state)" = on ] && sysfs_write $ADMIN/kdamonds/$_k/state off
        _k=$((_k + 1))
    done
    sysfs_write $ADMIN/kdamonds/nr_kdamonds 0 || echo "damon_reset: $SYSFS_ERROR"
    rm -rf "$DP_STATE"
}

# start_workload NAME ARGS...: starts damo-workload as process NAME, waits for its first
# report (/tmp/NAME.report); WL_PID is its pid.
start_workload() {
    _name=$1
    shift
    rm -f /tmp/$_name.report
    /bin/damo-workload --name "$_name" --report-every 1s --report-file /tmp/$_name.report "$@" \
        >/tmp/$_name.out 2>&1 &
    WL_PID=$!
    wait_until 60 test -s /tmp/$_name.report
}

# report_value NAME KEY: KEY's value in workload NAME's latest report.
report_value() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" /tmp/$1.report; }

# memcg DIR...: creates cgroups (paths below the cgroup2 mount) with the memory controller
# enabled on the way down, so that each has its own memcg for DAMON's memcg filters.
memcg() {
    for _path in "$@"; do
        _dir=/sys/fs/cgroup
        for _part in $(echo "$_path" | tr '/' ' '); do
            grep -qw memory $_dir/cgroup.subtree_control || echo +memory >$_dir/cgroup.subtree_control
            _dir=$_dir/$_part
            mkdir -p $_dir
        done
    done
}

# zram_on: 256 MiB of zram swap (the modules come from the kernel package, decompressed).
zram_on() {
    for _module in $(cat /modules/load-order); do
        insmod /modules/$_module || return 1
    done
    wait_until 5 test -e /sys/block/zram0/disksize &&
        echo 256M >/sys/block/zram0/disksize &&
        mkswap /dev/zram0 >/dev/null &&
        swapon /dev/zram0 &&
        grep -q '^/dev/zram0' /proc/swaps
}

# tree_digest: a digest of every writable file of every kdamond (values, not statistics),
# to show that a refused command changed nothing.
tree_digest() {
    find $ADMIN/kdamonds -type f ! -path '*/stats/*' ! -path '*/tried_regions/*' \
        ! -name pid ! -name avail_operations ! -name effective_bytes ! -name current_value |
        sort | while read -r _f; do echo "$_f=$(cat "$_f" 2>/dev/null)"; done | md5sum | cut -c1-16
}

# The host's damo in the guest. tests/vm/harness.rs exports the host's root read-only over
# virtio-9p when it knows damo's path on the host, which it writes to /host-damo. host_root
# mounts that root on $HOST once per boot, with this guest's own proc, sysfs, tracefs and
# devtmpfs over it (so that whatever runs there sees this kernel, never the host's), the
# guest's /tmp bound on its /tmp (files pass both ways by the same path) and an empty /run.
HOST=/host
HOST_DAMO=$(cat /host-damo 2>/dev/null)

# host_root: 0 once the host's root is mounted on $HOST; else 1 with $DAMO_SKIP saying why.
host_root() {
    [ -e /run/host-root-mounted ] && return 0
    DAMO_SKIP=
    if [ -z "$HOST_DAMO" ]; then
        DAMO_SKIP="no damo on the host: set DAMO_POLICY_DAMO to damo's executable (outside /tmp and /run)"
        return 1
    fi
    if [ ! -s /modules/9p-load-order ]; then
        DAMO_SKIP="the kernel cache has no 9p modules: run tests/vm/fetch-kernels.sh"
        return 1
    fi
    for _module in $(cat /modules/9p-load-order); do
        grep -q "^${_module%.ko} " /proc/modules && continue
        insmod /modules/$_module || { DAMO_SKIP="insmod $_module failed"; return 1; }
    done
    mkdir -p $HOST
    # msize and cache=loose: fewer, larger 9p requests for Python's many small reads.
    if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot $HOST; then
        DAMO_SKIP="cannot mount the host's root over 9p"
        return 1
    fi
    # All or nothing: damo must never run where /sys is the host's.
    if ! { mount -t proc proc $HOST/proc && mount -t sysfs sysfs $HOST/sys &&
        mount -t tracefs nodev $HOST/sys/kernel/tracing && mount -t devtmpfs devtmpfs $HOST/dev &&
        mount -o bind /tmp $HOST/tmp && mount -t tmpfs tmpfs $HOST/run; }; then
        DAMO_SKIP="cannot mount the guest's file systems in the host's root"
        return 1
    fi
    touch /run/host-root-mounted
}

# in_host_root SCRIPT [ARG]...: the status of the shell SCRIPT run quietly in the host's root,
# where paths and symbolic links resolve as they do for damo.
HOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
in_host_root() {
    _script=$1
    shift
    chroot $HOST /usr/bin/env -i PATH=$HOST_PATH /bin/sh -c "$_script" sh "$@" >/dev/null 2>&1
}

# damo_ready: 0 when the host's damo can run here; else 1 with $DAMO_SKIP saying why, for
# `result STEP skip reason="$(quote "$DAMO_SKIP")"`.
damo_ready() {
    host_root || return 1
    if ! in_host_root 'test -x "$1"' "$HOST_DAMO"; then
        DAMO_SKIP="$HOST_DAMO is not an executable in the host's root as the guest sees it"
        return 1
    fi
}

# host_damo ARGS...: the host's damo in the host's root, HOME=/tmp (call damo_ready first).
# Output: $DAMO_OUT (stdout and stderr), $DAMO_RC; $DAMO_MS: its wall time in ms (10 ms
# resolution); $DAMO_CPU_MS: user+sys CPU time in ms of damo and of the children it waited
# for (perf, for `record`), from the rusage busybox time reports.
host_damo() {
    _t0=$(now_cs)
    time -f '%U %S' -o /tmp/damo.time chroot $HOST /usr/bin/env -i HOME=/tmp PATH=$HOST_PATH \
        NO_COLOR=1 "$HOST_DAMO" "$@" >/tmp/damo.out 2>&1
    DAMO_RC=$?
    DAMO_MS=$((($(now_cs) - _t0) * 10))
    DAMO_OUT=$(cat /tmp/damo.out)
    DAMO_CPU_MS=$(tail -n 1 /tmp/damo.time | awk '{ printf "%d", ($1 + $2) * 1000 }')
    echo "+ damo $* -> exit $DAMO_RC (${DAMO_MS} ms, cpu ${DAMO_CPU_MS} ms)"
    [ -n "$DAMO_OUT" ] && echo "$DAMO_OUT" | sed 's/^/  | /' | head -n 40
    return $DAMO_RC
}

# damo_can_record: 0 when the host has what `damo record` and `damo report` run beside damo:
# perf or trace-cmd (damo 3.4.3 records DAMON's trace events with one of them and refuses to
# start without) and file(1) (damo's reports tell record formats apart with it); else 1 with
# $DAMO_SKIP saying why. Call damo_ready first.
damo_can_record() {
    if ! in_host_root 'command -v perf || command -v trace-cmd'; then
        DAMO_SKIP="the host has neither perf nor trace-cmd, one of which damo record needs (apt-get install linux-perf)"
        return 1
    fi
    if ! in_host_root 'command -v file'; then
        DAMO_SKIP="the host has no file(1), which damo report needs (apt-get install file)"
        return 1
    fi
}

# damo_record PID SECONDS FILE [DAMO_ARGS...]: `damo record` of process PID for SECONDS into
# FILE (a path both here and in the host's root: under /tmp) and FILE.mem_footprint, limited
# to what `damo-policy record` records, accesses and the memory footprint (damo's default
# adds a system-wide CPU profile, VMAs and process statistics; DAMO_ARGS may add them back).
# damo starts its own kdamond (5 ms sampling, 100 ms aggregation) and leaves it staged but
# off. Output as host_damo: $DAMO_CPU_MS is the CPU time of damo's Python and of the perf it
# records with and converts with, not the kdamond's. Under emulation perf takes seconds to
# start and records nothing before: of a 30 s recording, 5-8 s of aggregations were caught,
# and 10 s recordings came out empty.
damo_record() {
    _pid=$1 _seconds=$2 _file=$3
    shift 3
    host_damo record --timeout "$_seconds" --do_record access mem_footprint -o "$_file" "$@" "$_pid"
}
