# 96-record.sh: `damo-policy record` of a workload whose two regions take turns being hot,
# ended by --duration, by SIGTERM and by the target exiting; from the tried regions of a
# `stat` scheme; attached to an applied policy's kdamond; and damo's reports on the file.
#
# Steps (RESULT lines): record_workload (REGION addresses), record_duration, record_sigterm,
# record_target_exit, record_tried, record_attach, damo_reads_record (skip without damo).
# Documents (JSON lines): each record file as {"base64": …} (record_file_duration, _sigterm,
# _target_exit, _tried, _attach), for the host's reader. MEASUREs: record_cpu_ms (user+sys of
# damo-policy over record_seconds of recording at a 100 ms aggregation interval).
. /vm/lib.sh

DP_STATE=/run/record-state
D=/tmp/rec
INSTANCES=/sys/kernel/tracing/instances
mkdir -p $D

# leftovers: our tracefs instances and running kdamonds, which no recording may leave behind.
leftovers() {
    echo "instances=$(ls $INSTANCES | grep -c '^damo-policy-') kdamonds=\"$(kdamonds_summary)\""
}

# No kdamond of ours runs when every kdamond is off.
nothing_left() {
    [ "$(ls $INSTANCES | grep -c '^damo-policy-')" -eq 0 ] &&
        ! kdamonds_summary | grep -q ':on:'
}

disable=
STAT=/sys/module/damon_stat/parameters/enabled
[ -r $STAT ] && [ "$(cat $STAT)" = Y ] && disable=--disable-modules

if ! start_workload rec-workload --phased 64M:3s --gap 64M --phased 64M:3s; then
    result record_workload fail error="$(quote "$(cat /tmp/rec-workload.out)")"
    exit 1
fi
regions=$(sed -n 's/^REGION label=\([a-z0-9]*\) start=\(0x[0-9a-f]*\) end=\(0x[0-9a-f]*\)/\1=\2-\3/p' \
    /tmp/rec-workload.out | tr '\n' ' ')
result record_workload pass pid=$WL_PID regions="$(quote "$regions")"

# 1. --duration, timed: the recorder's CPU per second of recording.
SECONDS_RECORDED=20
time -f '%U %S' -o /tmp/rec.time \
    /bin/damo-policy record --process rec-workload --duration ${SECONDS_RECORDED}s -o $D/duration.data \
    $disable --sysfs-root $ADMIN --module-root /sys/module --proc-root /proc \
    --cgroup-root /sys/fs/cgroup --system-root /sys/devices/system --state-dir $DP_STATE \
    >/tmp/rec.out 2>/tmp/rec.err
rc=$?
cpu_ms=$(awk '{ printf "%.0f", ($1 + $2) * 1000 }' /tmp/rec.time)
measure record_cpu_ms "$cpu_ms"
measure record_seconds $SECONDS_RECORDED
status=fail
[ $rc -eq 0 ] && [ -s $D/duration.data ] && [ -s $D/duration.data.mem_footprint ] && nothing_left && status=pass
result record_duration $status exit=$rc mode=$(stat -c %a $D/duration.data) \
    footprint_mode=$(stat -c %a $D/duration.data.mem_footprint) $(leftovers) \
    message="$(quote "$(cat /tmp/rec.err)")"
[ -s $D/duration.data ] && json_file record_file_duration $D/duration.data

# 2. SIGTERM ends it with a whole file.
/bin/damo-policy record --process rec-workload -o $D/sigterm.data $disable --sysfs-root $ADMIN \
    --module-root /sys/module --proc-root /proc --cgroup-root /sys/fs/cgroup \
    --system-root /sys/devices/system --state-dir $DP_STATE >/tmp/rec.out 2>/tmp/rec.err &
rec_pid=$!
sleep 6
kill -TERM $rec_pid
wait $rec_pid
rc=$?
status=fail
[ $rc -eq 0 ] && [ -s $D/sigterm.data ] && nothing_left && status=pass
result record_sigterm $status exit=$rc $(leftovers) message="$(quote "$(cat /tmp/rec.err)")"
[ -s $D/sigterm.data ] && json_file record_file_sigterm $D/sigterm.data

# 3. The target exiting ends it.
if start_workload rec-short --phased 32M:1s --duration 8s; then
    dp record --pid $WL_PID -o $D/target_exit.data $disable
    status=fail
    [ $DP_RC -eq 0 ] && [ -s $D/target_exit.data ] && nothing_left &&
        echo "$DP_ERR" | grep -q 'every target process exited' && status=pass
    result record_target_exit $status exit=$DP_RC $(leftovers) message="$(quote "$DP_ERR")"
    [ -s $D/target_exit.data ] && json_file record_file_target_exit $D/target_exit.data
else
    result record_target_exit fail error="$(quote "$(cat /tmp/rec-short.out)")"
fi

# 4. The fallback source: a `stat` scheme's tried regions.
dp record --process rec-workload --source tried-regions --duration 6s -o $D/tried.data $disable
status=fail
[ $DP_RC -eq 0 ] && [ -s $D/tried.data ] && nothing_left && status=pass
result record_tried $status exit=$DP_RC $(leftovers) message="$(quote "$DP_ERR")"
[ -s $D/tried.data ] && json_file record_file_tried $D/tried.data

# 5. --attach: records an applied policy's kdamond, changing nothing.
cat >$D/observe.toml <<'TOML'
name = "observe"

[target]
process = "rec-workload"

[[scheme]]
action = "stat"
TOML
dp apply $D/observe.toml $disable
applied=$DP_RC
before=$(kdamonds_summary)
dp plan $D/observe.toml --format json
ops_before=$(plan_ops)
dp record --attach observe --duration 4s -o $D/attach.data
rc=$DP_RC err=$DP_ERR
after=$(kdamonds_summary)
dp plan $D/observe.toml --format json
ops_after=$(plan_ops)
status=fail
[ $applied -eq 0 ] && [ $rc -eq 0 ] && [ "$before" = "$after" ] && [ "$ops_before" -eq 0 ] &&
    [ "$ops_after" -eq 0 ] && [ "$(ls $INSTANCES | grep -c '^damo-policy-')" -eq 0 ] && status=pass
result record_attach $status exit=$rc applied=$applied ops_before=$ops_before ops_after=$ops_after \
    kdamonds_before="$(quote "$before")" kdamonds_after="$(quote "$after")" message="$(quote "$err")"
[ -s $D/attach.data ] && json_file record_file_attach $D/attach.data
dp stop

# 6. damo reads the file damo-policy recorded.
if damo_ready; then
    host_damo report wss --input $D/duration.data
    wss_rc=$DAMO_RC wss="$DAMO_OUT"
    host_damo report access --total_sz_only --input $D/duration.data
    access_rc=$DAMO_RC
    snapshots=$(echo "$DAMO_OUT" | grep -c .)
    status=fail
    [ $wss_rc -eq 0 ] && [ $access_rc -eq 0 ] && status=pass
    result damo_reads_record $status wss_exit=$wss_rc access_exit=$access_rc access_lines=$snapshots \
        wss="$(quote "$(echo "$wss" | tail -n 3)")" access="$(quote "$(echo "$DAMO_OUT" | tail -n 3)")"
else
    result damo_reads_record skip reason="$(quote "$DAMO_SKIP")"
fi

kill $WL_PID 2>/dev/null
