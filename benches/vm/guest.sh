# guest.sh: the kernel-side half of benches/compare.sh, run by benches/vm/init in a chroot of
# the host's root (read-only over 9p) inside the benchmark VM. damo and damo-policy are the
# host's own installations, run against the guest's DAMON.
#
#   sh guest.sh REPO INPUTS N...
#
# INPUTS holds, per N, nN/ (policy/bench.toml and damo.args, the same configuration of N
# schemes) and nN-changed/ (scheme 0's minimum age changed). For each N, from a kernel with
# no kdamond:
#   damo:        start, tune with the one-field change, tune unchanged (writes counted from
#                its --debug_damon log);
#   damo-policy: apply, apply after the same change, apply unchanged (writes from its
#                "applied: N write(s)" line, cross-checked with `plan --format json`);
# each with its wall time and peak RSS (GNU time), and the kernel trees both tools configured
# compared file by file. Before the loop: each tool's first start on this boot, its feature
# probe (which stages a dummy kdamond) included. After it: one start of each tool counted by
# strace (the same instrument for both), and the resident memory of each tool's long-running
# process (damo schemes, damo-policy apply --watch) once idle.
#
# Results: one "BENCH key=value" line each, on the console and on the second serial port.

# Writes DAMON sysfs: only ever in the benchmark VM, whose init leaves this marker on a tmpfs.
[ -e /run/damo-policy-bench-guest ] && grep -q 'bench.repo=' /proc/cmdline || {
    echo "guest.sh: not in the damo-policy benchmark VM, refusing" >&2
    exit 1
}
set -f   # arguments read from damo.args are split on whitespace, never globbed

REPO=$1 INPUTS=$2
shift 2
DAMO=$REPO/target/damo-venv/bin/damo
DP=$REPO/target/release/damo-policy
ADMIN=/sys/kernel/mm/damon/admin
TIME=/usr/bin/time
export PYTHONDONTWRITEBYTECODE=1

emit() {
    echo "BENCH $*"
    [ -c /dev/ttyS1 ] && echo "BENCH $*" >/dev/ttyS1
}

# run NAME COMMAND...: runs COMMAND once under GNU time. Sets RC, MS (wall, ms) and RSS (KiB);
# output in /tmp/NAME.out and /tmp/NAME.err.
run() {
    _name=$1
    shift
    _t0=$(date +%s%N)
    $TIME -f %M -o /tmp/$_name.rss "$@" >/tmp/$_name.out 2>/tmp/$_name.err
    RC=$?
    _t1=$(date +%s%N)
    MS=$(((_t1 - _t0) / 1000000))
    RSS=$(tail -n 1 /tmp/$_name.rss)
    echo "+ $* -> exit $RC, ${MS} ms, ${RSS} KiB" | cut -c1-200
    if [ $RC -ne 0 ]; then
        head -c 2000 /tmp/$_name.out
        head -c 2000 /tmp/$_name.err
        emit "error=$_name"
    fi
}

damo_writes() { grep -c "^write '" /tmp/$1.out; }
# The files written, relative to the admin directory, sorted (a multiset: repeats kept).
damo_paths() { sed -n "s|^write '.*' to '$ADMIN/\(.*\)'\$|\1|p" /tmp/$1.out | sort; }
plan_paths() { sed -n 's/.*"path": "\(.*\)",*$/\1/p' /tmp/$1.out | sort; }
# leaf_counts: file names (below a scheme, or a kdamond) with their counts, comma-separated.
leaf_counts() {
    sed 's|.*/schemes/[0-9]*/||; s|^kdamonds/[0-9]*/||' | sort | uniq -c |
        awk '{printf "%s%s(%s)", (NR > 1 ? "," : ""), $2, $1}'
}
dp_writes() { sed -n 's/^applied: \([0-9]*\) write.*/\1/p' /tmp/$1.out; }
plan_ops() { grep -c '"path":' /tmp/$1.out; }

# No kdamond at all: every one off, then none.
reset_damon() {
    _nr=$(cat $ADMIN/kdamonds/nr_kdamonds)
    _k=0
    while [ $_k -lt "$_nr" ]; do
        [ "$(cat $ADMIN/kdamonds/$_k/state)" = on ] && echo off >$ADMIN/kdamonds/$_k/state
        _k=$((_k + 1))
    done
    echo 0 >$ADMIN/kdamonds/nr_kdamonds
    rm -rf /run/dp-state
}

# Every value file of the kdamonds tree (not statistics, pids or read-only outputs).
tree() {
    grep -r --exclude-dir=stats --exclude-dir=tried_regions --exclude=pid --exclude=effective_bytes \
        --exclude=current_value --exclude=avail_operations '' $ADMIN/kdamonds | sort >"$1"
}

dp() { $DP "$@" --state-dir /run/dp-state; }

strace_writes() { grep -c "^[0-9 ]*write([0-9]*</sys/kernel/mm/damon/" /tmp/$1.strace; }

emit "kernel=$(uname -r)"
reset_damon

# The first start of each tool on this boot: damo has no ~/.damo.sysinfo yet and damo-policy
# no probe cache in its state directory, so each probes the kernel first. damo's writes are
# counted from its log; damo-policy's probe writes are not in its "applied" count, so strace
# counts them.
rm -f "$HOME/.damo.sysinfo"
run damo_first $DAMO start $(cat $INPUTS/n1/damo.args) --debug_damon
emit "first tool=damo writes=$(damo_writes damo_first) ms=$MS rc=$RC"
reset_damon
rm -rf /tmp/policy && cp -r $INPUTS/n1/policy /tmp/policy
run dp_first strace -f --seccomp-bpf -y -qq -e trace=write -e signal=none -o /tmp/dp_first.strace \
    $DP apply /tmp/policy --state-dir /run/dp-state
emit "first tool=damo-policy writes=$(strace_writes dp_first) applied=$(dp_writes dp_first) rc=$RC"
reset_damon

for n in "$@"; do
    in=$INPUTS/n$n changed=$INPUTS/n$n-changed

    # damo: start, tune after the change, tune unchanged.
    run damo_start $DAMO start $(cat $in/damo.args) --debug_damon
    emit "n=$n tool=damo step=scratch writes=$(damo_writes damo_start) ms=$MS rss_kib=$RSS rc=$RC"
    damo_paths damo_start >/tmp/damo-$n.paths
    tree /tmp/damo-$n.tree
    run damo_change $DAMO tune $(cat $changed/damo.args) --debug_damon
    emit "n=$n tool=damo step=change writes=$(damo_writes damo_change) ms=$MS rss_kib=$RSS rc=$RC"
    tree /tmp/damo-$n-changed.tree
    run damo_same $DAMO tune $(cat $changed/damo.args) --debug_damon
    emit "n=$n tool=damo step=unchanged writes=$(damo_writes damo_same) ms=$MS rss_kib=$RSS rc=$RC"
    reset_damon

    # damo-policy: apply, apply after the same change, apply unchanged.
    rm -rf /tmp/policy && cp -r $in/policy /tmp/policy
    dp plan /tmp/policy --format json >/tmp/plan.out 2>&1
    ops=$(plan_ops plan)
    plan_paths plan >/tmp/dp-$n.paths
    run dp_apply $DP apply /tmp/policy --state-dir /run/dp-state
    emit "n=$n tool=damo-policy step=scratch writes=$(dp_writes dp_apply) plan_ops=$ops ms=$MS rss_kib=$RSS rc=$RC"
    tree /tmp/dp-$n.tree
    cp $changed/policy/bench.toml /tmp/policy/bench.toml
    dp plan /tmp/policy --format json >/tmp/plan.out 2>&1
    ops=$(plan_ops plan)
    run dp_change $DP apply /tmp/policy --state-dir /run/dp-state
    emit "n=$n tool=damo-policy step=change writes=$(dp_writes dp_change) plan_ops=$ops ms=$MS rss_kib=$RSS rc=$RC"
    tree /tmp/dp-$n-changed.tree
    dp plan /tmp/policy --format json >/tmp/plan.out 2>&1
    ops=$(plan_ops plan)
    run dp_same $DP apply /tmp/policy --state-dir /run/dp-state
    emit "n=$n tool=damo-policy step=unchanged writes=$(dp_writes dp_same) plan_ops=$ops ms=$MS rss_kib=$RSS rc=$RC"
    reset_damon

    # Which files one tool wrote from scratch and the other did not.
    emit "n=$n written-by=damo-policy-only which=$(comm -13 /tmp/damo-$n.paths /tmp/dp-$n.paths | leaf_counts)"
    emit "n=$n written-by=damo-only which=$(comm -23 /tmp/damo-$n.paths /tmp/dp-$n.paths | leaf_counts)"

    # The kernel trees both tools configured: files whose values differ, by file name.
    for t in "" -changed; do
        d=$(diff /tmp/damo-$n$t.tree /tmp/dp-$n$t.tree | sed -n "s|^< $ADMIN/\([^:]*\):.*|\1|p")
        emit "n=$n compare=tree$t files=$(wc -l </tmp/dp-$n$t.tree) differing=$(echo "$d" | grep -c .) which=$(echo "$d" | grep . | leaf_counts)"
    done
done

# One start of each tool counted by strace: every write(2) to a file under DAMON's sysfs.
for n in "$@"; do :; done   # the largest configuration, the last one
strace -f --seccomp-bpf -y -qq -e trace=write -e signal=none -o /tmp/damo.strace \
    $DAMO start $(cat $INPUTS/n$n/damo.args) --debug_damon >/tmp/damo_strace.out 2>&1
rc=$?
emit "strace n=$n tool=damo writes=$(strace_writes damo) log=$(damo_writes damo_strace) rc=$rc"
reset_damon
rm -rf /tmp/policy && cp -r $INPUTS/n$n/policy /tmp/policy
strace -f --seccomp-bpf -y -qq -e trace=write -e signal=none -o /tmp/dp.strace \
    $DP apply /tmp/policy --state-dir /run/dp-state >/tmp/dp_strace.out 2>&1
rc=$?
emit "strace n=$n tool=damo-policy writes=$(strace_writes dp) log=$(dp_writes dp_strace) rc=$rc"
reset_damon

# Long-running processes, idle: damo schemes (damo's foreground start, which keeps its
# schemes until it exits) and damo-policy apply --watch, on the same configuration.
resident() { awk '/^VmRSS/ {print $2}' /proc/$1/status; }
kdamond_on() { [ "$(cat $ADMIN/kdamonds/nr_kdamonds)" -gt 0 ] && [ "$(cat $ADMIN/kdamonds/0/state)" = on ]; }
wait_on() { _i=0; until kdamond_on; do _i=$((_i + 1)); [ $_i -gt 300 ] && return 1; sleep 0.2; done; }
# idle TOOL: the resident memory of the process just started in the background, 5 s after
# its kdamond is on; then stops it.
idle() {
    _pid=$!
    wait_on && sleep 5
    _rc=$?
    emit "idle n=$n tool=$1 rss_kib=$(resident $_pid) rc=$_rc"
    kill -TERM $_pid; wait $_pid
    reset_damon
}
$DAMO schemes $(cat $INPUTS/n$n/damo.args) >/tmp/schemes.out 2>&1 &
idle damo
rm -rf /tmp/policy && cp -r $INPUTS/n$n/policy /tmp/policy
DAMO_POLICY_LOG=warn $DP apply --watch /tmp/policy --state-dir /run/dp-state >/tmp/watch.out 2>&1 &
idle damo-policy
emit "done"
