# 10-probe.sh: DAMON sysfs is present and offers the three operation sets.
# Prints: RESULT step=probe status=… avail_operations=<comma list> damon_stat=Y|N|absent
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
