# 10-probe.sh: DAMON sysfs is present and offers the three operation sets; tracefs offers
# DAMON's aggregation event and private instances; the host's damo runs in the guest,
# records a workload and reads what it recorded.
# Prints: RESULT step=probe status=… avail_operations=<comma list> damon_stat=Y|N|absent
#         RESULT step=tracefs status=… instance=<name>
#         RESULT step=damo_version status=pass|fail|skip version=<damo's version>
#         RESULT step=damo_record status=pass|fail|skip file_bytes=… snapshots=… wss="…"
# and MEASUREs probe_damo_*: damo's wall and CPU times.
. /vm/lib.sh

ADMIN=/sys/kernel/mm/damon/admin
if [ ! -d $ADMIN/kdamonds ]; then
    result probe fail error=no_damon_sysfs
    exit 1
fi
# avail_operations lives in a context directory, so one kdamond with one context is staged
# (never started) and removed again.
if ! sysfs_write $ADMIN/kdamonds/nr_kdamonds 1 || ! sysfs_write $ADMIN/kdamonds/0/contexts/nr_contexts 1; then
    result probe fail error="$(quote "$SYSFS_ERROR")"
    exit 1
fi
ops=$(tr '\n' ',' <$ADMIN/kdamonds/0/contexts/0/avail_operations)
ops=${ops%,}
stat=absent
[ -r /sys/module/damon_stat/parameters/enabled ] && stat=$(cat /sys/module/damon_stat/parameters/enabled)
sysfs_write $ADMIN/kdamonds/nr_kdamonds 0
result probe pass avail_operations="$ops" damon_stat="$stat"

# A recorder's private trace instance: its own copy of DAMON's aggregation event, made and
# removed without touching the top-level buffer.
TRACING=/sys/kernel/tracing
instance=$TRACING/instances/probe-$$
if [ ! -e $TRACING/events/damon/damon_aggregated/format ]; then
    result tracefs fail error="$(quote "no events/damon/damon_aggregated in $TRACING: $(ls $TRACING 2>&1 | head -n 3)")"
elif ! err=$(mkdir $instance 2>&1); then
    result tracefs fail error="$(quote "mkdir $instance: $err")"
elif [ ! -e $instance/events/damon/damon_aggregated/enable ] || ! rmdir $instance || [ -e $instance ]; then
    result tracefs fail error="$(quote "instance $instance lacks the event or was not removed")"
else
    result tracefs pass instance=probe-$$
fi

if ! damo_ready; then
    result damo_version skip reason="$(quote "$DAMO_SKIP")"
    result damo_record skip reason="$(quote "$DAMO_SKIP")"
    exit 0
fi
if host_damo version; then
    result damo_version pass version="$(quote "$DAMO_OUT")"
else
    result damo_version fail error="$(quote "$DAMO_OUT")"
fi
measure probe_damo_version_ms $DAMO_MS
measure probe_damo_version_cpu_ms $DAMO_CPU_MS

if ! damo_can_record; then
    result damo_record skip reason="$(quote "$DAMO_SKIP")"
    exit 0
fi
# Debian 7.x runs damon_stat from boot, which keeps damo from starting a kdamond; it is
# stopped for the recording and restored afterwards, as the later scenarios expect it.
STAT=/sys/module/damon_stat/parameters/enabled
stat_before=$(cat $STAT 2>/dev/null)
[ "$stat_before" = Y ] && echo N >$STAT
start_workload probe-workload --cold 64M --hot 16M
file=/tmp/probe-damo.data
if ! damo_record $WL_PID 30 $file; then
    result damo_record fail error="$(quote "$(echo "$DAMO_OUT" | tail -n 5)")"
else
    measure probe_damo_record_ms $DAMO_MS
    measure probe_damo_record_cpu_ms $DAMO_CPU_MS
    bytes=$(stat -c %s $file 2>/dev/null)
    # One line per snapshot with --total_sz_only; wss's average says it found snapshots.
    host_damo report access --input $file --total_sz_only
    access_rc=$DAMO_RC snapshots=$(echo "$DAMO_OUT" | grep -c .)
    measure probe_damo_report_access_ms $DAMO_MS
    host_damo report wss --input $file
    wss_rc=$DAMO_RC wss=$(echo "$DAMO_OUT" | sed -n 's/^# avr:[[:space:]]*//p')
    measure probe_damo_report_wss_ms $DAMO_MS
    if [ "$access_rc" = 0 ] && [ "$wss_rc" = 0 ] && [ -n "$wss" ] && [ -s $file.mem_footprint ]; then
        result damo_record pass file_bytes=$bytes snapshots=$snapshots wss="$(quote "$wss")"
        json_file damo_record_file $file
    else
        result damo_record fail file_bytes=$bytes snapshots=$snapshots access_rc=$access_rc wss_rc=$wss_rc \
            error="$(quote "$(echo "$DAMO_OUT" | tail -n 5)")"
    fi
fi
kill $WL_PID
damon_reset
[ "$stat_before" = Y ] && echo Y >$STAT
rm -f $file $file.*
