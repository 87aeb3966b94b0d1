# 50-lifecycle.sh: three policies through their lifecycle: the examples proactive-reclaim
# (processes named batch-worker) and thp-hot-cold (postgres), and physical-stat (physical
# memory; not lru-sort, whose kdamond, idle below its watermarks, answers each statistics
# refresh of `status` only every 5 s). One scheme field changed is that write plus `commit`,
# every kdamond kept; removing one policy stops only its kdamond; a vaddr kdamond whose
# process exits stops by itself, `status` says so, apply leaves the policy pending, and once
# a process of that name runs again the next apply starts it on the new process;
# `stop POLICY` stops only that policy's kdamond; removing one policy and adding three reuses
# the free slots and grows nr_kdamonds.
#
# Steps: lifecycle_apply, lifecycle_change, lifecycle_remove, lifecycle_exit,
# lifecycle_pending, lifecycle_restart, lifecycle_stop_one, lifecycle_grow_reuse. Documents: lifecycle_status,
# lifecycle_change_plan, lifecycle_remove_plan, lifecycle_status_exited,
# lifecycle_restart_plan, lifecycle_status_restarted. MEASUREs: lifecycle_*.
. /vm/lib.sh

DP_STATE=/run/lifecycle-state
DIR=/tmp/lifecycle
mkdir -p $DIR
cp /policies/proactive-reclaim.toml /policies/thp-hot-cold.toml /vm/policies/physical-stat.toml $DIR/

start_workload batch-worker --cold 8M
WORKER=$WL_PID
start_workload postgres --cold 8M

# slot_of POLICY: the kdamond slot of POLICY in the ownership record.
slot_of() {
    tr -d ' \n' <$DP_STATE/state.json | sed -n "s/.*\"$1\":{\"slot\":\([0-9]*\).*/\1/p"
}
# doc NAME: the last dp output as document NAME.
doc() { echo "$DP_OUT" >/tmp/$1.json && json $1 /tmp/$1.json; }

dp apply $DIR
status=fail
[ $DP_RC -eq 0 ] && status=pass
result lifecycle_apply $status exit=$DP_RC writes=$(applied_writes) kdamonds="$(quote "$(kdamonds_summary)")"
dp status --format json && doc lifecycle_status
RECLAIM=$(slot_of proactive-reclaim) THP=$(slot_of thp-hot-cold) PHYS=$(slot_of physical-stat)
measure lifecycle_slots "proactive-reclaim:$RECLAIM,thp-hot-cold:$THP,physical-stat:$PHYS"

# One scheme field: proactive-reclaim's minimum age, 60 s -> 30 s.
before=$(kdamonds_summary)
sed -i 's/access_pattern.age = { min = "60s" }/access_pattern.age = { min = "30s" }/' $DIR/proactive-reclaim.toml
dp plan $DIR --format json && doc lifecycle_change_plan
dp apply $DIR
writes=$(applied_writes)
after=$(kdamonds_summary)
measure lifecycle_change_writes "$writes"
status=fail
[ $DP_RC -eq 0 ] && [ "$before" = "$after" ] && [ "$writes" = 2 ] && status=pass
result lifecycle_change $status exit=$DP_RC writes=$writes kdamonds_before="$(quote "$before")" \
    kdamonds_after="$(quote "$after")" age_min="$(kd $RECLAIM contexts/0/schemes/0/access_pattern/age/min)"

# Remove thp-hot-cold: only its kdamond stops.
rm $DIR/thp-hot-cold.toml
dp plan $DIR --format json && doc lifecycle_remove_plan
dp apply $DIR
writes=$(applied_writes)
after_remove=$(kdamonds_summary)
measure lifecycle_remove_writes "$writes"
status=fail
[ $DP_RC -eq 0 ] && [ "$(kd $THP state)" = off ] && [ "$(kd $RECLAIM pid)" = "$(echo "$before" | tr ' ' '\n' | sed -n "s/^$RECLAIM:on://p")" ] &&
    [ "$(kd $PHYS pid)" = "$(echo "$before" | tr ' ' '\n' | sed -n "s/^$PHYS:on://p")" ] && status=pass
result lifecycle_remove $status exit=$DP_RC writes=$writes kdamonds_before="$(quote "$before")" \
    kdamonds_after="$(quote "$after_remove")"

# The batch worker exits: its vaddr kdamond stops by itself.
kill $WORKER
# Reaped, so that no zombie of that name is left for the next apply to find.
wait $WORKER 2>/dev/null
wait_until 20 sh -c "[ \"\$(cat $ADMIN/kdamonds/$RECLAIM/state)\" = off ]"
stopped=$?
dp status --format json && doc lifecycle_status_exited
status=fail
[ $stopped -eq 0 ] && [ "$(kd $PHYS state)" = on ] && status=pass
result lifecycle_exit $status kdamonds="$(quote "$(kdamonds_summary)")"

# No batch-worker: the policy is pending, nothing is written.
dp apply $DIR
writes=$(applied_writes)
status=fail
[ $DP_RC -eq 0 ] && [ "$writes" = 0 ] && echo "$DP_ERR" | grep -q "pending: policy \`proactive-reclaim\`" && status=pass
result lifecycle_pending $status exit=$DP_RC writes=$writes message="$(quote "$DP_ERR")"

# A new batch-worker: the next apply resolves it and starts the kdamond again.
start_workload batch-worker --cold 8M
WORKER=$WL_PID
dp plan $DIR --format json && doc lifecycle_restart_plan
dp apply $DIR
writes=$(applied_writes)
dp status --format json && doc lifecycle_status_restarted
status=fail
[ $DP_RC -eq 0 ] && [ "$(kd $RECLAIM state)" = on ] &&
    [ "$(kd $RECLAIM contexts/0/targets/0/pid_target)" = $WORKER ] && status=pass
result lifecycle_restart $status exit=$DP_RC writes=$writes worker=$WORKER \
    pid_target="$(kd $RECLAIM contexts/0/targets/0/pid_target)" kdamonds="$(quote "$(kdamonds_summary)")"

# stop one policy by name.
before=$(kdamonds_summary)
dp stop physical-stat
status=fail
[ $DP_RC -eq 0 ] && [ "$(kd $PHYS state)" = off ] && [ "$(kd $RECLAIM state)" = on ] && status=pass
result lifecycle_stop_one $status exit=$DP_RC kdamonds_before="$(quote "$before")" \
    kdamonds_after="$(quote "$(kdamonds_summary)")"

# Remove the running policy and add three: the two free slots are reused and nr_kdamonds
# grows by one, so every kdamond goes off first, each exactly once (the kernel refuses `off`
# for a kdamond that is not running).
rm $DIR/proactive-reclaim.toml
for name in extra-a extra-b extra-c; do
    sed "s/^name = \"physical-stat\"/name = \"$name\"/" /vm/policies/physical-stat.toml >$DIR/$name.toml
done
dp apply $DIR
writes=$(applied_writes)
all_on() {
    for _k in $(seq 0 $(($(cat $ADMIN/kdamonds/nr_kdamonds) - 1))); do
        [ "$(kd $_k state)" = on ] || return 1
    done
}
status=fail
[ $DP_RC -eq 0 ] && [ "$(cat $ADMIN/kdamonds/nr_kdamonds)" = 4 ] && all_on && status=pass
result lifecycle_grow_reuse $status exit=$DP_RC writes=$writes kdamonds="$(quote "$(kdamonds_summary)")" \
    message="$(quote "$DP_ERR")"

killall damo-workload
damon_reset
