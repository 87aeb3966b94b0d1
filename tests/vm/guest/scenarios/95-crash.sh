# 95-crash.sh: crash safety on a real kernel. SIGKILL to `apply` of four policies (four
# kdamonds) at points spread over its run time and at exact kernel writes (debug builds pause
# at a given write with DAMO_POLICY_PAUSE_AFTER_WRITES, see src/reconcile/apply.rs), and to an
# apply of four commits between a write and its commit; then apply again (up to three times)
# until it converges: the same slots as an apply never killed, four kdamonds all on, the
# record naming their pids, and one more apply with nothing to do. SIGKILL to `apply --watch`
# after an edit (timed, and paused before the commit), restarted: it adopts its kdamonds
# (same pids) and the edit reaches the kernel. A state directory that is full, then one that
# is read-only: apply says what and where and how to fix it, the kernel is left as it was,
# and the next apply with a working directory applies.
#
# Steps: crash_reference, crash_apply_<n>, crash_commit_<n>, crash_watch_start,
# crash_watch_<n>, crash_state_full, crash_state_full_repaired, crash_state_read_only,
# crash_state_read_only_repaired. MEASUREs: crash_* (faults injected by kind, outcomes).
. /vm/lib.sh

damon_reset
DIR=/tmp/crash
rm -rf $DIR
mkdir -p $DIR
chmod 0755 $DIR
POLICIES="alpha beta gamma delta"
for name in $POLICIES; do
    sed "s/^name = \"physical-stat\"/name = \"$name\"/" /vm/policies/physical-stat.toml >$DIR/$name.toml
done

# set_age SECONDS: every policy's minimum age.
set_age() {
    sed -i "s/access_pattern.age = { min = \"[0-9]*s\" }/access_pattern.age = { min = \"$1s\" }/" $DIR/*.toml
}

# The roots and record of dp, for commands run in the background.
roots() {
    echo --sysfs-root $ADMIN --module-root /sys/module --proc-root /proc --cgroup-root /sys/fs/cgroup \
        --system-root /sys/devices/system --state-dir "$DP_STATE"
}

slot_of() {
    tr -d ' \n' <$DP_STATE/state.json | sed -n "s/.*\"$1\":{\"slot\":\([0-9]*\).*/\1/p"
}

slots() {
    for name in $POLICIES; do printf '%s:%s,' $name "$(slot_of $name)"; done
}

# The pids the record names (the owned kdamonds' own field, not a target's), sorted.
recorded_pids() { grep -E '^      "pid": [0-9]+' $DP_STATE/state.json | tr -dc '0-9\n' | sort -n | tr '\n' ' '; }

running_pids() {
    for k in $(seq 0 $(($(cat $ADMIN/kdamonds/nr_kdamonds) - 1))); do kd $k pid; echo; done |
        grep -v '^-1$' | grep . | sort -n | tr '\n' ' '
}

all_on() {
    for k in $(seq 0 $(($(cat $ADMIN/kdamonds/nr_kdamonds) - 1))); do
        [ "$(kd $k state)" = on ] || return 1
    done
}

# reset: a clean kernel and no record; the probe cache stays, as after any earlier command
# of this boot (each probe costs seconds here, and the first run of the binary more).
reset() {
    _cache=$(cat $DP_STATE/kernel.json 2>/dev/null)
    damon_reset
    [ -n "$_cache" ] && mkdir -p $DP_STATE && echo "$_cache" >$DP_STATE/kernel.json
    set_age 10
}

# The reference: a clean apply never killed (the second one, warm), its time, write count
# and slots.
set_age 10
dp apply $DIR --disable-modules
reset
dp apply $DIR --disable-modules
REF_MS=$DP_MS REF_WRITES=$(applied_writes) REF_SLOTS=$(slots)
status=fail
[ $DP_RC -eq 0 ] && [ "$REF_WRITES" -gt 0 ] && all_on && status=pass
result crash_reference $status exit=$DP_RC ms=$REF_MS writes=$REF_WRITES slots="$REF_SLOTS"
measure crash_apply_reference_ms "$REF_MS"
measure crash_apply_reference_writes "$REF_WRITES"

# converge: applies until one succeeds (at most 3); APPLIES is how many it took. Then
# checks the kernel and the record against the reference; CONVERGED says what failed.
converge() {
    APPLIES=0
    while [ $APPLIES -lt 3 ]; do
        APPLIES=$((APPLIES + 1))
        dp apply $DIR --disable-modules && break
    done
    AFTER=$(kdamonds_summary) FIRST_OUT=$DP_OUT
    CONVERGED=yes
    [ $DP_RC -eq 0 ] || CONVERGED="exit $DP_RC: $DP_ERR"
    [ "$(cat $ADMIN/kdamonds/nr_kdamonds)" = 4 ] || CONVERGED="nr_kdamonds $(cat $ADMIN/kdamonds/nr_kdamonds)"
    all_on || CONVERGED="not all on: $AFTER"
    [ "$(slots)" = "$REF_SLOTS" ] || CONVERGED="slots $(slots)"
    [ "$(recorded_pids)" = "$(running_pids)" ] || CONVERGED="recorded pids $(recorded_pids), running $(running_pids)"
    dp apply $DIR --disable-modules
    [ $DP_RC -eq 0 ] && [ "$(applied_writes)" = 0 ] || CONVERGED="another apply wrote $(applied_writes)"
}

# kill_apply MODE VALUE: starts apply in the background and SIGKILLs it VALUE ms after its
# start (MODE delay) or where it pauses after VALUE kernel writes (MODE write). KILLED:
# whether it was still running; AT_KILL: the kdamonds then.
kill_apply() {
    if [ "$1" = write ]; then
        DAMO_POLICY_PAUSE_AFTER_WRITES=$2 /bin/damo-policy apply $DIR --disable-modules $(roots) \
            >/tmp/crash.out 2>/tmp/crash.err &
        _pid=$!
        wait_until 60 grep -q "paused after $2 kernel write" /tmp/crash.err
    else
        /bin/damo-policy apply $DIR --disable-modules $(roots) >/tmp/crash.out 2>/tmp/crash.err &
        _pid=$!
        usleep $(($2 * 1000))
    fi
    kill -KILL $_pid 2>/dev/null
    wait $_pid
    KILL_RC=$?
    KILLED=no
    [ $KILL_RC -eq 137 ] && KILLED=yes
    AT_KILL=$(kdamonds_summary)
}

KILLS=0 FIRST=0 MORE=0 FAILED=0 LATE=0
# apply_trial N MODE VALUE: one kill of a first apply on a clean kernel, and the recovery.
apply_trial() {
    reset
    kill_apply $2 $3
    converge
    status=fail
    [ "$CONVERGED" = yes ] && status=pass
    if [ $KILLED = no ]; then
        LATE=$((LATE + 1))
    else
        KILLS=$((KILLS + 1))
        if [ $status = fail ]; then FAILED=$((FAILED + 1)); elif [ $APPLIES = 1 ]; then FIRST=$((FIRST + 1)); else MORE=$((MORE + 1)); fi
    fi
    result crash_apply_$1 $status mode=$2 at=$3 killed=$KILLED applies=$APPLIES \
        at_kill="$(quote "$AT_KILL")" after="$(quote "$AFTER")" converged="$(quote "$CONVERGED")"
}

# Timed kills spread over the reference's run time (start-up included), then exact points:
# after the first write, a third and two thirds of them, and between the last and the record.
n=0
for quarter in 1 2 3; do
    n=$((n + 1))
    apply_trial $n delay $((REF_MS * quarter / 4))
done
for at in 1 $((REF_WRITES / 3)) $((REF_WRITES * 2 / 3)) $REF_WRITES; do
    n=$((n + 1))
    apply_trial $n write $at
done
measure crash_apply_kills "$KILLS"
measure crash_apply_converged_first_apply "$FIRST"
measure crash_apply_converged_later_apply "$MORE"
measure crash_apply_failed "$FAILED"
measure crash_apply_finished_before_kill "$LATE"

# Commits killed: every policy's age changes (a write and a commit each); killed after an odd
# number of writes, one kdamond's file holds a value it never took. The next apply must
# commit it too, and restart none.
reset
dp apply $DIR --disable-modules
age=10 n=0 KILLS=0 FAILED=0
for at in 1 5; do
    n=$((n + 1))
    age=$((age + 10))
    pids=$(running_pids)
    set_age $age
    kill_apply write $at
    converge
    KILLS=$((KILLS + 1))
    status=fail
    [ "$CONVERGED" = yes ] && [ "$(running_pids)" = "$pids" ] && echo "$FIRST_OUT" | grep -q "never committed" &&
        [ "$(kd 0 contexts/0/schemes/0/access_pattern/age/min)" = $((age * 10)) ] && status=pass
    [ $status = fail ] && FAILED=$((FAILED + 1))
    result crash_commit_$n $status at=$at killed=$KILLED applies=$APPLIES pids_before="$(quote "$pids")" \
        pids_after="$(quote "$(running_pids)")" converged="$(quote "$CONVERGED")" plan="$(quote "$FIRST_OUT")"
done
measure crash_commit_kills "$KILLS"
measure crash_commit_failed "$FAILED"

# The service: killed after an edit, at timed points and paused before the commit, then
# started again.
reset
start_service() {
    env $1 /bin/damo-policy apply --watch $DIR --debounce 200ms --disable-modules $(roots) \
        >/tmp/crash-watch.out 2>/tmp/crash-watch.err &
    SERVICE=$!
}
start_service ""
wait_until 60 sh -c "[ \"\$(cat $ADMIN/kdamonds/nr_kdamonds)\" = 4 ]" && wait_until 60 all_on
started=$?
status=fail
[ $started -eq 0 ] && status=pass
result crash_watch_start $status kdamonds="$(quote "$(kdamonds_summary)")"

alpha=$(slot_of alpha)
age_is() { [ "$(kd $alpha contexts/0/schemes/0/access_pattern/age/min)" = $(($1 * 10)) ]; }
age=10 n=0 KILLS=0 ADOPTED=0 FAILED=0
# watch_trial MODE VALUE: edits alpha, kills the service (VALUE ms after the edit, or paused
# after VALUE writes of a service started with the pause), starts it again and waits for
# the edit in the kernel.
watch_trial() {
    n=$((n + 1))
    age=$((age + 10))
    pids=$(running_pids)
    if [ "$1" = write ]; then
        kill -KILL $SERVICE
        wait $SERVICE
        start_service DAMO_POLICY_PAUSE_AFTER_WRITES=$2
        # The restarted service finds nothing to do, then reloads the edit and pauses.
        wait_until 30 grep -q '"generation": 1' $DP_STATE/status.json
    fi
    sed -i "s/access_pattern.age = { min = \"[0-9]*s\" }/access_pattern.age = { min = \"${age}s\" }/" $DIR/alpha.toml
    if [ "$1" = write ]; then
        wait_until 30 grep -q "paused after $2 kernel write" /tmp/crash-watch.err
    else
        usleep $(($2 * 1000))
    fi
    kill -KILL $SERVICE
    wait $SERVICE
    killed_rc=$?
    at_kill=$(kdamonds_summary)
    KILLS=$((KILLS + 1))
    start_service ""
    wait_until 30 age_is $age
    reached=$?
    # The start reconcile is logged once done; its line says whether it committed.
    wait_until 30 grep -q 'cause="start"\|cause=start' /tmp/crash-watch.err
    status=fail
    [ $reached -eq 0 ] && [ "$(running_pids)" = "$pids" ] && all_on && status=pass
    [ "$(running_pids)" = "$pids" ] && ADOPTED=$((ADOPTED + 1))
    [ $status = fail ] && FAILED=$((FAILED + 1))
    result crash_watch_$n $status mode=$1 at=$2 exit=$killed_rc at_kill="$(quote "$at_kill")" \
        pids_before="$(quote "$pids")" pids_after="$(quote "$(running_pids)")" \
        start="$(quote "$(grep 'cause' /tmp/crash-watch.err | head -n 1)")"
}
for delay in 300 600; do watch_trial delay $delay; done
watch_trial write 1
measure crash_watch_kills "$KILLS"
measure crash_watch_adopted_same_pids "$ADOPTED"
measure crash_watch_failed "$FAILED"
kill -TERM $SERVICE
wait $SERVICE
sed 's/^/  service | /' /tmp/crash-watch.err | tail -n 20

# state_fault NAME MOUNT BREAK MESSAGE FIX REPAIR: a record on a small tmpfs at MOUNT, broken
# by BREAK; an apply of a change must fail with MESSAGE and FIX and leave the kernel as it
# was; after REPAIR the next apply applies.
FAULTS=0 REPAIRED=0
state_fault() {
    mkdir -p $2
    mount -t tmpfs -o size=256k tmpfs $2
    DP_STATE=$2/state
    reset
    dp apply $DIR --disable-modules
    set_age 20
    eval "$3"
    before="$(kdamonds_summary) $(kd 0 contexts/0/schemes/0/access_pattern/age/min)"
    dp apply $DIR --disable-modules
    rc=$DP_RC err=$DP_ERR
    after="$(kdamonds_summary) $(kd 0 contexts/0/schemes/0/access_pattern/age/min)"
    FAULTS=$((FAULTS + 1))
    status=fail
    [ $rc -eq 2 ] && [ "$before" = "$after" ] && echo "$err" | grep -q "$DP_STATE/" &&
        echo "$err" | grep -q "$4" && echo "$err" | grep -q -- "$5" && status=pass
    result crash_state_$1 $status exit=$rc before="$(quote "$before")" after="$(quote "$after")" \
        message="$(quote "$err")"
    eval "$6"
    converge
    status=fail
    [ "$CONVERGED" = yes ] && [ "$(kd 0 contexts/0/schemes/0/access_pattern/age/min)" = 200 ] && status=pass
    [ $status = pass ] && REPAIRED=$((REPAIRED + 1))
    result crash_state_$1_repaired $status applies=$APPLIES converged="$(quote "$CONVERGED")"
    damon_reset
    umount $2
}
state_fault full /tmp/state-full "dd if=/dev/zero of=/tmp/state-full/filler bs=4k 2>/dev/null" \
    "No space left on device" "free space there" "rm /tmp/state-full/filler"
state_fault read_only /tmp/state-ro "mount -o remount,ro /tmp/state-ro" \
    "Read-only file system" "remount it read-write" "mount -o remount,rw /tmp/state-ro"
measure crash_state_dir_faults "$FAULTS"
measure crash_state_dir_repaired "$REPAIRED"
DP_STATE=/run/damo-policy
damon_reset
