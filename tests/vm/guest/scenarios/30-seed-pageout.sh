# 30-seed-pageout.sh: the seed policy pages out a process's idle memory into zram swap.
#
# Steps (RESULT lines): zram, workload, damon_stat_refusal + damon_stat_disable (only where the
# damon_stat module is enabled, as on Debian 7.x), kdamond_on, seed_pageout. MEASUREs, all
# prefixed seed_: the workload's RSS, swap and per-region residency before and after, the
# scheme's stats after update_schemes_stats, the seconds waited, and zram's stored bytes.
. /vm/lib.sh
. /vm/seed-policy.sh

COLD=64M HOT=8M
COLD_KIB=65536
REPORT=/tmp/seed.report
# Polling stops once the scheme applied and three quarters of the cold region left memory, or
# at this limit. How fast DAMON isolates the cold region varies from run to run (regions are
# split at random points) and between kernels: most runs get there within 15 s, some page out
# part of the region and then stall for a minute.
WAIT_LIMIT_S=90

zram_on() {
    for module in $(cat /modules/load-order); do
        insmod /modules/$module || return 1
    done
    wait_until 5 test -e /sys/block/zram0/disksize &&
        echo 256M >/sys/block/zram0/disksize &&
        mkswap /dev/zram0 >/dev/null &&
        swapon /dev/zram0 &&
        grep -q '^/dev/zram0' /proc/swaps
}
if err=$(zram_on 2>&1); then
    result zram pass swap=/dev/zram0 modules="$(paste -sd, /modules/load-order)"
else
    result zram fail error="$(quote "$err")"
    exit 1
fi

# report_value KEY: KEY's value in the workload's latest REPORT line.
report_value() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" $REPORT; }
measure_workload() {
    for key in rss_kib swap_kib cold0_resident_kib cold0_swap_kib hot0_resident_kib hot0_swap_kib; do
        measure seed_${key%_kib}_$1_kib "$(report_value $key)"
    done
}

/bin/damo-workload --name seed-workload --cold $COLD --hot $HOT --report-every 1s \
    --report-file $REPORT >/tmp/seed-workload.out 2>&1 &
WORKLOAD=$!
# The first report is written right after every region has been touched.
if ! wait_until 60 test -s $REPORT; then
    result workload fail error="$(quote "$(cat /tmp/seed-workload.out)")"
    exit 1
fi
result workload pass pid=$WORKLOAD comm="$(cat /proc/$WORKLOAD/comm)"
measure_workload before

# Debian 7.x starts damon_stat at boot; while it runs, a sysfs kdamond cannot start (EBUSY).
STAT=/sys/module/damon_stat/parameters/enabled
if [ -r $STAT ] && [ "$(cat $STAT)" = Y ]; then
    if seed_policy_apply $WORKLOAD; then
        result damon_stat_refusal fail error=on_accepted_while_damon_stat_enabled
        sysfs_write $SEED_KDAMOND/state off
    else
        result damon_stat_refusal pass error="$(quote "$SYSFS_ERROR")"
    fi
    if sysfs_write $STAT N; then
        result damon_stat_disable pass enabled="$(cat $STAT)"
    else
        result damon_stat_disable fail error="$(quote "$SYSFS_ERROR")"
    fi
fi

if ! seed_policy_apply $WORKLOAD; then
    result kdamond_on fail error="$(quote "$SYSFS_ERROR")"
    kill $WORKLOAD
    exit 1
fi
result kdamond_on pass kdamond_pid="$(cat $SEED_KDAMOND/pid)"

waited=0
applied=0
while [ $waited -lt $WAIT_LIMIT_S ]; do
    sleep 1
    waited=$((waited + 1))
    sysfs_write $SEED_KDAMOND/state update_schemes_stats || break
    applied=$(cat $SEED_SCHEME/stats/sz_applied)
    cold=$(report_value cold0_resident_kib)
    # Only for the log: how the run progressed when a figure is off.
    echo "PROGRESS t=${waited}s sz_applied=$applied sz_tried=$(cat $SEED_SCHEME/stats/sz_tried) cold_resident_kib=$cold"
    [ "$applied" -gt 0 ] && [ "$cold" -le $((COLD_KIB / 4)) ] && break
done
# One more report period, so the figures below postdate the last stats update.
sleep 1
sysfs_write $SEED_KDAMOND/state update_schemes_stats
state=$(cat $SEED_KDAMOND/state)
measure seed_waited_s $waited
measure seed_kdamond_state "$state"
for stat in nr_tried sz_tried nr_applied sz_applied qt_exceeds; do
    measure seed_$stat "$(cat $SEED_SCHEME/stats/$stat)"
done
measure_workload after
measure seed_zram_orig_data_kib "$(awk '{ print int($1 / 1024) }' /sys/block/zram0/mm_stat)"

status=pass
[ "$state" = on ] || status=fail
result seed_pageout $status waited_s=$waited
sysfs_write $SEED_KDAMOND/state off
kill $WORKLOAD
