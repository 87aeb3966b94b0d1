# 40-examples.sh: every example policy of /policies that this kernel supports, applied at
# once. Their targets exist: processes named batch-worker and postgres, a process in the
# cgroup web.slice, the memcg system.slice/postgresql.service of the reclaim filter, and NUMA
# node 1 (qemu gives the VM two nodes). Then re-applying the unchanged directory plans no
# operation and writes nothing, and `stop` turns every kdamond off.
#
# Steps: examples_setup, examples_check_<policy> (one per policy: supported or not, with the
# first error), examples_apply, examples_reapply, examples_gated_change (a watermark-gated
# policy edited), examples_busy_lock (apply while another command holds DAMON's lock),
# examples_stop. Documents: examples_status (after apply),
# examples_reapply_plan, examples_gated_{before,plan,after}, examples_status_stopped.
# MEASUREs: examples_*.
. /vm/lib.sh

DP_STATE=/run/examples-state
DIR=/tmp/examples
mkdir -p $DIR

memcg web.slice system.slice/postgresql.service
ok=1
# Cold memory only: nothing spins, so the guest's two CPUs stay free for DAMON and the CLI.
start_workload batch-worker --cold 8M || ok=
start_workload postgres --cold 8M || ok=
start_workload web-worker --cold 4M || ok=
echo $WL_PID >/sys/fs/cgroup/web.slice/cgroup.procs || ok=
status=fail
[ -n "$ok" ] && status=pass
result examples_setup $status nodes="$(cat /sys/devices/system/node/online)" \
    web_slice="$(paste -sd, /sys/fs/cgroup/web.slice/cgroup.procs)"

supported=
for file in /policies/*.toml; do
    name=$(basename $file .toml)
    [ $name = damo-policy ] && continue
    out=$(/bin/damo-policy check --kernel running --sysfs-root $ADMIN --proc-root /proc \
        --cgroup-root /sys/fs/cgroup --system-root /sys/devices/system $file 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        cp $file $DIR/
        supported="$supported $name"
        result examples_check_$name pass supported=yes exit=$rc
    else
        echo "$out" | sed 's/^/  ! /'
        result examples_check_$name pass supported=no exit=$rc \
            error="$(quote "$(echo "$out" | grep -m1 'needs kernel' | sed 's/^[^a-z`]*//')")"
    fi
done
supported=${supported# }
measure examples_supported "$(echo $supported | tr ' ' ',')"

dp apply $DIR
writes=$(applied_writes)
measure examples_apply_writes "$writes"
measure examples_apply_ms $DP_MS
status=fail
[ $DP_RC -eq 0 ] && status=pass
result examples_apply $status exit=$DP_RC writes=$writes kdamonds="$(quote "$(kdamonds_summary)")" \
    message="$(quote "$DP_ERR")"
dp status --format json && echo "$DP_OUT" >/tmp/examples-status.json && json examples_status /tmp/examples-status.json
before=$(kdamonds_summary)

dp plan $DIR --format json && echo "$DP_OUT" >/tmp/examples-plan.json && json examples_reapply_plan /tmp/examples-plan.json
plan_ops=$(plan_ops)
dp apply $DIR
writes=$(applied_writes)
measure examples_reapply_writes "$writes"
measure examples_reapply_ms $DP_MS
after=$(kdamonds_summary)
status=fail
[ $DP_RC -eq 0 ] && [ "$plan_ops" = 0 ] && [ "$writes" = 0 ] && [ "$before" = "$after" ] && status=pass
result examples_reapply $status exit=$DP_RC plan_ops=$plan_ops writes=$writes \
    kdamonds_before="$(quote "$before")" kdamonds_after="$(quote "$after")"

# lru-sort's schemes both wait for low free memory, which this VM never has: before 6.16
# the kernel handles no `commit` for such a kdamond (the write would block), so a change
# restarts it; newer kernels take the commit.
sed -i 's/time = "10ms"/time = "20ms"/' $DIR/lru-sort.toml
dp status --format json && echo "$DP_OUT" >/tmp/gated-before.json && json examples_gated_before /tmp/gated-before.json
dp plan $DIR --format json && echo "$DP_OUT" >/tmp/gated-plan.json && json examples_gated_plan /tmp/gated-plan.json
dp apply $DIR
writes=$(applied_writes)
measure examples_gated_change_writes "$writes"
measure examples_gated_change_ms $DP_MS
status=fail
[ $DP_RC -eq 0 ] && status=pass
result examples_gated_change $status exit=$DP_RC writes=$writes message="$(quote "$DP_ERR")"
dp status --format json && echo "$DP_OUT" >/tmp/gated-after.json && json examples_gated_after /tmp/gated-after.json

# Another program's command to lru-sort's kdamond is answered only at its next watermark
# check, and the kernel holds DAMON's sysfs lock (or its one command slot, before 6.15) until
# then: an apply meanwhile finds `state` busy and must wait, not fail.
for k in $(seq 0 $(($(cat $ADMIN/kdamonds/nr_kdamonds) - 1))); do
    [ "$(kd $k contexts/0/schemes/0/action)" = lru_prio ] && LRU=$k
done
tries=0 pending=no
while [ $tries -lt 5 ] && [ $pending = no ]; do
    tries=$((tries + 1))
    rm -f /tmp/held /tmp/holding
    t0=$(now_cs)
    ( : >/tmp/holding; echo update_schemes_stats >$ADMIN/kdamonds/$LRU/state; echo $((($(now_cs) - t0) * 10)) >/tmp/held ) &
    HOLDER=$!
    usleep 300000
    # Its command written and still waiting for the kernel: the lock is held now.
    [ -e /tmp/holding ] && [ ! -e /tmp/held ] && pending=yes
    [ $pending = yes ] || wait $HOLDER
done
sed -i 's/min = "60s"/min = "50s"/' $DIR/proactive-reclaim.toml
dp apply $DIR
wait $HOLDER
writes=$(applied_writes)
measure examples_busy_lock_held_ms "$(cat /tmp/held)"
measure examples_busy_lock_apply_ms $DP_MS
status=fail
[ $DP_RC -eq 0 ] && [ $pending = yes ] && status=pass
result examples_busy_lock $status exit=$DP_RC pending_at_apply=$pending writes=$writes \
    held_ms="$(cat /tmp/held)" apply_ms=$DP_MS message="$(quote "$DP_ERR")"

dp stop
dp status --format json && echo "$DP_OUT" >/tmp/examples-stopped.json && json examples_status_stopped /tmp/examples-stopped.json
status=fail
[ "$(kdamonds_summary | tr ' ' '\n' | grep -c ':on:')" = 0 ] && status=pass
result examples_stop $status kdamonds="$(quote "$(kdamonds_summary)")"

killall damo-workload
damon_reset
