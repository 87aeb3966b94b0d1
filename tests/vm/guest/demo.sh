# demo.sh: the guest half of tests/vm/demo.sh (run by /init with `damo.demo=1`): a workload
# named batch-worker, the example policy policies/proactive-reclaim.toml applied to it with
# `damo-policy apply`, its memory watched as DAMON pages the cold part out, `damo-policy
# status`, and the figures before and after. Everything goes to the results port, which the
# host script prints as it arrives.
. /vm/lib.sh
exec >$RESULTS_PORT 2>&1

DP_STATE=/run/damo-policy
POLICY=/tmp/demo/proactive-reclaim.toml
WAIT_LIMIT_S=60
mkdir -p /tmp/demo

# show CMD...: prints `$ damo-policy ARGS` and runs it on the guest's DAMON. (Every root is
# passed explicitly: --sysfs-root /sys/kernel/mm/damon/admin, --state-dir /run/damo-policy…)
show() {
    echo "  \$ damo-policy $*"
    /bin/damo-policy "$@" --sysfs-root $ADMIN --module-root /sys/module --proc-root /proc \
        --cgroup-root /sys/fs/cgroup --system-root /sys/devices/system --state-dir $DP_STATE 2>&1 |
        sed 's/^/    /'
}
mib() { awk -v k="$1" 'BEGIN { printf "%5.1f MiB", k / 1024 }'; }
# The same, unpadded.
mib_() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
memory() {
    echo "RSS $(mib "$(report_value batch-worker rss_kib)")  swap $(mib "$(report_value batch-worker swap_kib)")" \
        "  in memory: cold $(mib "$(report_value batch-worker cold0_resident_kib)")," \
        "hot $(mib "$(report_value batch-worker hot0_resident_kib)")"
}

echo "damo-policy demo: Debian kernel $(uname -r) under qemu, $(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo) MiB of RAM"
if ! zram_on >/tmp/demo/zram.log 2>&1; then
    echo "error: cannot set up zram swap: $(cat /tmp/demo/zram.log)"
    exit 1
fi
echo "with 256 MiB of compressed swap in RAM (zram)."
echo
echo "1. A workload named batch-worker writes 64 MiB once and never touches it again (cold),"
echo "   and keeps touching another 8 MiB, in a mapping of its own (hot)."
# The unmapped hole between the two mappings lets DAMON tell them apart within seconds;
# adjacent, they form one mapping that DAMON may take a minute to split.
if ! start_workload batch-worker --cold 64M --gap 64M --hot 8M; then
    echo "error: the workload did not start: $(cat /tmp/batch-worker.out)"
    exit 1
fi
worker=$WL_PID
before_rss=$(report_value batch-worker rss_kib) before_swap=$(report_value batch-worker swap_kib)
echo "   batch-worker, pid $worker:  $(memory)"
echo
echo "2. The example policy policies/proactive-reclaim.toml pages out memory of every process"
echo "   named batch-worker that no sample saw accessed for 60 s, at most 128 MiB and 10 ms of"
echo "   CPU per second. So that the demo takes seconds, not minutes, this copy waits 5 s"
echo "   instead of 60 s and has no such quota. The policy, without its comments:"
sed -e 's/access_pattern.age = { min = "60s" }/access_pattern.age = { min = "5s" }/' \
    -e 's/idle for 60 s"/idle for 5 s (demo copy)"/' \
    -e '/^\[scheme.quota\]/,$d' /policies/proactive-reclaim.toml >$POLICY
grep -v '^ *#' $POLICY | grep -v '^$' | sed 's/^/     | /'
echo
t0=$(now_cs)
show apply $POLICY
echo "    (wall time of apply: $(awk -v cs=$(($(now_cs) - t0)) 'BEGIN { printf "%.1f", cs / 100 }') s, in this emulated VM)"
echo
echo "3. DAMON samples the process's memory every 5 ms; regions idle for 5 s are paged out:"
waited=0
while [ $waited -lt $WAIT_LIMIT_S ]; do
    sleep 1
    waited=$((waited + 1))
    printf '   t=%2ds  %s\n' $waited "$(memory)"
    cold=$(report_value batch-worker cold0_resident_kib)
    # Done when almost all of it is out, or three quarters and 5 s more have passed.
    [ "$cold" -le 4096 ] && break
    [ "$cold" -le 16384 ] && { [ -z "${quarter:-}" ] && quarter=$waited; [ $waited -ge $((quarter + 5)) ] && break; }
done
sleep 1
echo
echo "4. What damo-policy applied, and what the kernel's scheme did:"
show status
echo "    (\"applied\" is the kernel's count: a region spanning an unmapped gap is paged out but"
echo "    counted as tried only, as madvise reports an error for the gap; the target's RSS and swap"
echo "    beside its pid show the effect)"
echo
after_rss=$(report_value batch-worker rss_kib) after_swap=$(report_value batch-worker swap_kib)
echo "Result: batch-worker's RSS went from $(mib_ $before_rss) to $(mib_ $after_rss), its swap from" \
    "$(mib_ $before_swap) to $(mib_ $after_swap);"
echo "the hot 8 MiB stayed in memory ($(mib_ "$(report_value batch-worker hot0_resident_kib)") resident)."
show stop >/dev/null
kill $worker
