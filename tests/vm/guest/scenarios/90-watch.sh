# 90-watch.sh: the service on a real kernel. `apply --watch` on a directory of two physical
# policies: an edited scheme field is committed within 1 s with the same kdamond pid; a bad
# edit changes nothing in the kernel and the status file says why; deleting a policy file
# stops only its kdamond; SIGTERM ends the service and leaves the policies running.
#
# Steps: watch_start, watch_edit, watch_bad_edit, watch_delete, watch_sigterm.
# MEASUREs: watch_edit_latency_ms.
. /vm/lib.sh

damon_reset
DIR=/tmp/watch
rm -rf $DIR
mkdir -p $DIR
chmod 0755 $DIR
for name in alpha beta; do
    sed "s/^name = \"physical-stat\"/name = \"$name\"/" /vm/policies/physical-stat.toml >$DIR/$name.toml
done

/bin/damo-policy apply --watch $DIR --debounce 200ms --disable-modules \
    --sysfs-root $ADMIN --module-root /sys/module --proc-root /proc \
    --cgroup-root /sys/fs/cgroup --system-root /sys/devices/system \
    --state-dir "$DP_STATE" >/tmp/watch.out 2>/tmp/watch.err &
SERVICE=$!

both_on() { [ "$(kd 0 state)" = on ] && [ "$(kd 1 state)" = on ]; }
wait_until 60 both_on
started=$?
status=fail
[ $started -eq 0 ] && status=pass
result watch_start $status kdamonds="$(quote "$(kdamonds_summary)")"

# Edit alpha's minimum age (10 s -> 20 s: 100 -> 200 aggregation intervals).
pid=$(kd 0 pid)
t0=$(now_cs)
sed -i 's/access_pattern.age = { min = "10s" }/access_pattern.age = { min = "20s" }/' $DIR/alpha.toml
age_is_200() { [ "$(kd 0 contexts/0/schemes/0/access_pattern/age/min)" = 200 ]; }
wait_until 5 age_is_200
edited=$?
latency_ms=$((($(now_cs) - t0) * 10))
measure watch_edit_latency_ms $latency_ms
status=fail
[ $edited -eq 0 ] && [ $latency_ms -le 1000 ] && [ "$(kd 0 pid)" = "$pid" ] && [ "$(kd 0 state)" = on ] && status=pass
result watch_edit $status latency_ms=$latency_ms pid_before=$pid pid_after=$(kd 0 pid)

# A bad edit: nothing changes in the kernel; the status file names the problem.
before=$(tree_digest)
sed -i 's/action = "stat"/action = "stta"/' $DIR/alpha.toml
invalid() { grep -q '"result": "invalid"' "$DP_STATE/status.json" 2>/dev/null; }
wait_until 5 invalid
reported=$?
after=$(tree_digest)
status=fail
[ $reported -eq 0 ] && [ "$before" = "$after" ] && [ "$(kd 0 pid)" = "$pid" ] && status=pass
result watch_bad_edit $status digest_before=$before digest_after=$after
sed -i 's/action = "stta"/action = "stat"/' $DIR/alpha.toml

# Deleting beta's file stops only beta's kdamond.
beta_off() { [ "$(kd 1 state)" = off ]; }
rm $DIR/beta.toml
wait_until 5 beta_off
deleted=$?
status=fail
[ $deleted -eq 0 ] && [ "$(kd 0 state)" = on ] && [ "$(kd 0 pid)" = "$pid" ] && status=pass
result watch_delete $status kdamonds="$(quote "$(kdamonds_summary)")"

# SIGTERM: the service exits, the policies keep running.
kill -TERM $SERVICE
wait $SERVICE
code=$?
status=fail
[ $code -eq 0 ] && [ "$(kd 0 state)" = on ] && [ "$(kd 0 pid)" = "$pid" ] && status=pass
result watch_sigterm $status exit=$code kdamonds="$(quote "$(kdamonds_summary)")"
sed 's/^/  service | /' /tmp/watch.err | head -n 40
damon_reset
