# 30-seed-pageout.sh: `damo-policy apply` of the seed policy (page out memory of the process
# `seed-workload` idle for 3 s) pages the workload's cold memory out into zram swap; then
# re-applying writes nothing and a one-field change is one write and a `commit`.
#
# Steps (RESULT lines): zram, workload, damon_stat_refusal + damon_stat_disable (only where the
# damon_stat module is enabled, as on Debian 7.x), seed_apply, seed_pageout, seed_reapply,
# seed_change, seed_stop. Documents (JSON lines): seed_plan (the plan from scratch),
# seed_status (status after the pageout), seed_change_plan, seed_status_stopped. MEASUREs,
# all prefixed seed_: the workload's RSS, swap and per-region residency before and after,
# the writes and wall time of each apply, the seconds waited, and zram's stored bytes.
. /vm/lib.sh

DP_STATE=/run/seed-state
POLICY=/tmp/seed/seed.toml
COLD=64M GAP=64M HOT=8M
COLD_KIB=65536
# The workload's cold and hot regions lie on either side of an unmapped hole (--gap). Without
# it they form one mapping, and DAMON, which splits regions at random points, took 4-20 s to
# tell them apart in most of 35 runs, but 38 s, 55 s and over 90 s in three (with the hole:
# 4-11 s in 12 runs).
# Polling stops once the scheme applied and three quarters of the cold region left memory,
# or after 15 s five eighths of it, or at this limit.
WAIT_LIMIT_S=90

mkdir -p /tmp/seed && cp /vm/policies/seed.toml $POLICY

if err=$(zram_on 2>&1); then
    result zram pass swap=/dev/zram0 modules="$(paste -sd, /modules/load-order)"
else
    result zram fail error="$(quote "$err")"
    exit 1
fi

measure_workload() {
    for key in rss_kib swap_kib cold0_resident_kib cold0_swap_kib hot0_resident_kib hot0_swap_kib; do
        measure seed_${key%_kib}_$1_kib "$(report_value seed-workload $key)"
    done
}

if ! start_workload seed-workload --cold $COLD --gap $GAP --hot $HOT; then
    result workload fail error="$(quote "$(cat /tmp/seed-workload.out)")"
    exit 1
fi
result workload pass pid=$WL_PID comm="$(cat /proc/$WL_PID/comm)"
measure_workload before

dp plan $POLICY --format json && echo "$DP_OUT" >/tmp/seed/plan.json && json seed_plan /tmp/seed/plan.json
measure seed_plan_ms $DP_MS

# Debian 7.x starts damon_stat at boot; while it runs, the kernel refuses to start a sysfs
# kdamond (EBUSY). apply must refuse before writing anything and name the fix.
STAT=/sys/module/damon_stat/parameters/enabled
disable=
if [ -r $STAT ] && [ "$(cat $STAT)" = Y ]; then
    before=$(kdamonds_summary)
    dp apply $POLICY
    after=$(kdamonds_summary)
    status=fail
    [ $DP_RC -eq 3 ] && [ "$before" = "$after" ] && status=pass
    result damon_stat_refusal $status exit=$DP_RC kdamonds_before="$(quote "$before")" \
        kdamonds_after="$(quote "$after")" message="$(quote "$DP_ERR")"
    disable=--disable-modules
fi

dp apply $POLICY $disable
rc=$DP_RC
if [ -n "$disable" ]; then
    status=fail
    [ $rc -eq 0 ] && [ "$(cat $STAT)" = N ] && status=pass
    result damon_stat_disable $status exit=$rc enabled="$(cat $STAT)" message="$(quote "$DP_ERR")"
fi
writes=$(applied_writes)
measure seed_apply_writes "$writes"
measure seed_apply_ms $DP_MS
kdamond_pid=$(kd 0 pid)
if [ $rc -ne 0 ] || [ "$(kd 0 state)" != on ]; then
    result seed_apply fail exit=$rc message="$(quote "$DP_ERR")"
    kill $WL_PID
    exit 1
fi
result seed_apply pass exit=$rc writes=$writes kdamond_pid=$kdamond_pid

S=$ADMIN/kdamonds/0/contexts/0/schemes/0
waited=0
applied=0
while [ $waited -lt $WAIT_LIMIT_S ]; do
    sleep 1
    waited=$((waited + 1))
    sysfs_write $ADMIN/kdamonds/0/state update_schemes_stats || break
    applied=$(cat $S/stats/sz_applied)
    cold=$(report_value seed-workload cold0_resident_kib)
    # Only for the log: how the run progressed when a figure is off.
    echo "PROGRESS t=${waited}s sz_applied=$applied sz_tried=$(cat $S/stats/sz_tried) cold_resident_kib=$cold"
    if [ "$applied" -gt 0 ] && [ "$cold" -le $((COLD_KIB / 4)) ]; then
        reason=three_quarters
        break
    fi
    if [ "$applied" -gt 0 ] && [ "$cold" -le $((COLD_KIB * 3 / 8)) ] && [ $waited -ge 15 ]; then
        reason=five_eighths_after_15s
        break
    fi
    reason="limit(sz_applied=$applied,cold_resident_kib=$cold)"
done
# One more report period, so the figures below postdate the pageout.
sleep 1
measure seed_waited_s $waited
measure seed_wait_end "$reason"
measure_workload after
measure seed_zram_orig_data_kib "$(awk '{ print int($1 / 1024) }' /sys/block/zram0/mm_stat)"
dp status --format json && echo "$DP_OUT" >/tmp/seed/status.json && json seed_status /tmp/seed/status.json
measure seed_status_ms $DP_MS
state=$(kd 0 state)
status=pass
[ "$state" = on ] || status=fail
result seed_pageout $status waited_s=$waited state=$state

# Unchanged: the plan is empty and apply writes nothing.
dp plan $POLICY --format json
plan_ops=$(plan_ops)
dp apply $POLICY
writes=$(applied_writes)
measure seed_reapply_writes "$writes"
measure seed_reapply_ms $DP_MS
status=fail
[ $DP_RC -eq 0 ] && [ "$plan_ops" = 0 ] && [ "$writes" = 0 ] && status=pass
result seed_reapply $status exit=$DP_RC plan_ops=$plan_ops writes=$writes

# One field changed (age 3 s -> 4 s): one write and a commit, same kdamond.
sed -i 's/age = { min = "3s" }/age = { min = "4s" }/' $POLICY
dp plan $POLICY --format json && echo "$DP_OUT" >/tmp/seed/change.json && json seed_change_plan /tmp/seed/change.json
dp apply $POLICY
writes=$(applied_writes)
measure seed_change_writes "$writes"
measure seed_change_ms $DP_MS
status=fail
[ $DP_RC -eq 0 ] && [ "$(kd 0 pid)" = "$kdamond_pid" ] && [ "$(kd 0 state)" = on ] && status=pass
result seed_change $status exit=$DP_RC writes=$writes kdamond_pid_before=$kdamond_pid \
    kdamond_pid_after="$(kd 0 pid)" age_min="$(cat $S/access_pattern/age/min)"

dp stop
dp status --format json && echo "$DP_OUT" >/tmp/seed/stopped.json && json seed_status_stopped /tmp/seed/stopped.json
status=fail
[ "$(kd 0 state)" = off ] && status=pass
result seed_stop $status exit=$DP_RC state="$(kd 0 state)"

kill $WL_PID
damon_reset
