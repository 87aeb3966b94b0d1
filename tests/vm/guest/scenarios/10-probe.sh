# 10-probe.sh: DAMON sysfs is present and offers the three operation sets; tracefs offers
# DAMON's aggregation event and private instances.
# Prints: RESULT step=probe status=… avail_operations=<comma list> damon_stat=Y|N|absent
#         RESULT step=tracefs status=… instance=<name>
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
