# seed-policy.sh: the seed policy (page out memory of a process that stayed idle for 3 s) as
# direct writes to the guest's DAMON sysfs. It stands in for `damo-policy apply` until that
# command exists: switching means replacing the body of seed_policy_apply with one
# `damo-policy apply --sysfs-root / …` call; the scenarios only call seed_policy_apply and
# read SEED_SCHEME/stats.
# Needs lib.sh.

DAMON_ADMIN=/sys/kernel/mm/damon/admin
SEED_KDAMOND=$DAMON_ADMIN/kdamonds/0
SEED_CONTEXT=$SEED_KDAMOND/contexts/0
SEED_SCHEME=$SEED_CONTEXT/schemes/0

ULONG_MAX=18446744073709551615
# age and nr_accesses are 32-bit in the core: larger values would wrap.
UINT_MAX=4294967295

# seed_policy_apply PID: stages kdamond 0 with one vaddr context on PID and the pageout scheme,
# then turns it on. Every leaf is written, because new directories start with defaults that
# match nothing (access-pattern maxima of 0). On failure SYSFS_ERROR says which write failed.
seed_policy_apply() {
    c=$SEED_CONTEXT
    s=$SEED_SCHEME
    # nr_* first, parents before children: each nr_* write recreates its children.
    sysfs_write $DAMON_ADMIN/kdamonds/nr_kdamonds 1 &&
        sysfs_write $SEED_KDAMOND/contexts/nr_contexts 1 &&
        sysfs_write $c/targets/nr_targets 1 &&
        sysfs_write $c/targets/0/regions/nr_regions 0 &&
        sysfs_write $c/schemes/nr_schemes 1 &&
        sysfs_write $s/filters/nr_filters 0 &&
        sysfs_write $c/operations vaddr &&
        sysfs_write $c/monitoring_attrs/intervals/sample_us 5000 &&
        sysfs_write $c/monitoring_attrs/intervals/aggr_us 100000 &&
        sysfs_write $c/monitoring_attrs/intervals/update_us 60000000 &&
        sysfs_write $c/monitoring_attrs/nr_regions/min 10 &&
        sysfs_write $c/monitoring_attrs/nr_regions/max 1000 &&
        sysfs_write $c/targets/0/pid_target "$1" &&
        sysfs_write $s/action pageout &&
        sysfs_write $s/apply_interval_us 0 &&
        sysfs_write $s/access_pattern/sz/min 4096 &&
        sysfs_write $s/access_pattern/sz/max $ULONG_MAX &&
        sysfs_write $s/access_pattern/nr_accesses/min 0 &&
        sysfs_write $s/access_pattern/nr_accesses/max 0 &&
        sysfs_write $s/access_pattern/age/min 30 && # 30 aggregation intervals of 100 ms = 3 s
        sysfs_write $s/access_pattern/age/max $UINT_MAX &&
        sysfs_write $s/quotas/ms 0 &&
        sysfs_write $s/quotas/bytes 0 &&
        sysfs_write $s/quotas/reset_interval_ms 0 &&
        sysfs_write $s/quotas/weights/sz_permil 0 &&
        sysfs_write $s/quotas/weights/nr_accesses_permil 0 &&
        sysfs_write $s/quotas/weights/age_permil 0 &&
        sysfs_write $s/watermarks/metric none &&
        sysfs_write $s/watermarks/interval_us 0 &&
        sysfs_write $s/watermarks/high 0 &&
        sysfs_write $s/watermarks/mid 0 &&
        sysfs_write $s/watermarks/low 0 &&
        sysfs_write $SEED_KDAMOND/state on
}
