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

# edit_age SECONDS: sets alpha's minimum age and prints the milliseconds until the kernel has
# it (SECONDS * 10 aggregation intervals of 100 ms), polling every 50 ms; fails after 5 s.
edit_age() {
    _t0=$(now_cs)
    sed -i "s/access_pattern.age = { min = \"[0-9]*s\" }/access_pattern.age = { min = \"$1s\" }/" $DIR/alpha.toml
    _left=100
    until [ "$(kd 0 contexts/0/schemes/0/access_pattern/age/min)" = $(($1 * 10)) ]; do
        _left=$((_left - 1))
        [ $_left -gt 0 ] || return 1
        usleep 50000
    done
    echo $((($(now_cs) - _t0) * 10))
}

# Three edits of alpha's minimum age (10 s -> 20 s -> 30 s -> 40 s); the median latency
# counts, so that one stall of the emulated machine does not decide.
pid=$(kd 0 pid)
latencies= edited=0
for age in 20 30 40; do
    latency=$(edit_age $age) || { edited=1; break; }
    latencies="$latencies $latency"
done
median_ms=$(echo $latencies | tr ' ' '\n' | sort -n | sed -n 2p)
measure watch_edit_latency_ms "${median_ms:-0}"
status=fail
[ $edited -eq 0 ] && [ "${median_ms:-99999}" -le 1000 ] && [ "$(kd 0 pid)" = "$pid" ] && [ "$(kd 0 state)" = on ] && status=pass
result watch_edit $status latency_ms="${median_ms:-none}" latencies_ms="$(quote "$latencies")" pid_before=$pid pid_after=$(kd 0 pid)

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

# SIGTERM: the service exits, the policies keep running. (A service that does not exit
# within 20 s is killed, and the step fails, rather than hang the whole suite.)
kill -TERM $SERVICE
service_gone() { [ ! -e /proc/$SERVICE ] || grep -q '^[0-9]* ([^)]*) Z' /proc/$SERVICE/stat; }
if wait_until 20 service_gone; then
    wait $SERVICE
    code=$?
else
    kill -KILL $SERVICE
    wait $SERVICE
    code=timeout
fi
status=fail
[ $code -eq 0 ] && [ "$(kd 0 state)" = on ] && [ "$(kd 0 pid)" = "$pid" ] && status=pass
result watch_sigterm $status exit=$code kdamonds="$(quote "$(kdamonds_summary)")"
sed 's/^/  service | /' /tmp/watch.err | head -n 40
damon_reset
