# 70-memcg.sh: a memcg filter naming a cgroup that does not exist. The kernel refuses the
# configuration (ENOMEM at commit); apply exits 3, names the cgroup, and the previous
# configuration runs on with its old values.
#
# Steps: memcg_apply, memcg_bad. Document: memcg_status (after the refusal).
. /vm/lib.sh

DP_STATE=/run/memcg-state
DIR=/tmp/memcg
mkdir -p $DIR
cp /vm/policies/memcg-filter.toml $DIR/
memcg batch.slice

# memcg_path: the filter's path, wherever this kernel keeps memcg filters.
memcg_path() { cat $ADMIN/kdamonds/0/contexts/0/schemes/0/*filters/0/memcg_path 2>/dev/null | head -n1; }

dp apply $DIR
PID=$(kd 0 pid)
status=fail
[ $DP_RC -eq 0 ] && [ "$(kd 0 state)" = on ] && status=pass
result memcg_apply $status exit=$DP_RC kdamond_pid=$PID memcg_path="$(memcg_path)"

sed -i 's/cgroup = "batch.slice"/cgroup = "no-such.slice"/' $DIR/memcg-filter.toml
dp apply $DIR
rc=$DP_RC err=$DP_ERR
# A kernel that reports a bad commit by stopping the kdamond (before 6.15) may still be
# shutting it down when apply returns: let it settle before reading.
sleep 1
restored() { [ "$(kd 0 state)" = on ] && [ "$(memcg_path)" = /batch.slice ]; }
wait_until 10 restored
dp status --format json && echo "$DP_OUT" >/tmp/memcg-status.json && json memcg_status /tmp/memcg-status.json
status=fail
[ $rc -eq 3 ] && [ "$(kd 0 state)" = on ] && [ "$(memcg_path)" = /batch.slice ] && status=pass
result memcg_bad $status exit=$rc state="$(kd 0 state)" kdamond_pid_before=$PID kdamond_pid_after="$(kd 0 pid)" \
    memcg_path="$(memcg_path)" message="$(quote "$err")"

damon_reset
