#!/usr/bin/env bash
# Idle footprint of the watching service: starts the release binary with `apply --watch`
# on an empty policy directory against a temporary sysfs tree (never the host's: a plain
# directory cannot emulate DAMON, so there is nothing to apply), waits for it to settle,
# then samples its CPU time and resident memory over IDLE_S seconds. Baseline in the same
# run: `sleep` (a process that does nothing), measured the same way.
#
#   benches/watch-idle.sh            IDLE_S=10 by default
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE_S=${IDLE_S:-10}
cargo build --release -q
bin=$PWD/target/release/damo-policy
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/sysfs/kdamonds" "$work/policies" "$work/modules"
echo 0 > "$work/sysfs/kdamonds/nr_kdamonds"
chmod 0755 "$work/policies"

sample() { # PID → "cpu_ticks rss_kib"
    local stat rss
    stat=$(cut -d' ' -f14,15 "/proc/$1/stat")
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$1/status")
    echo "$(( ${stat% *} + ${stat#* } )) $rss"
}

DAMO_POLICY_LOG=warn "$bin" apply --watch "$work/policies" --sysfs-root "$work/sysfs" \
    --module-root "$work/modules" --state-dir "$work/state" 2>"$work/log" &
pid=$!
sleep 2
read -r cpu0 _ < <(sample "$pid")
sleep "$IDLE_S"
read -r cpu1 rss < <(sample "$pid")

sleep 3600 & base=$!
read -r bcpu0 _ < <(sample "$base")
sleep 1
read -r bcpu1 brss < <(sample "$base")
kill "$base"

hz=$(getconf CLK_TCK)
echo "idle service over ${IDLE_S} s: CPU $(( cpu1 - cpu0 )) tick(s) of 1/${hz} s ($(awk -v t=$((cpu1 - cpu0)) -v s="$IDLE_S" -v hz="$hz" 'BEGIN {printf "%.2f", 100 * t / hz / s}')% of a core); resident memory ${rss} KiB ($(awk -v r="$rss" 'BEGIN {printf "%.1f", r / 1024}') MiB; target < 15 MiB)"
echo "baseline \`sleep\`: CPU $(( bcpu1 - bcpu0 )) tick(s), resident ${brss} KiB; service / baseline memory = $(awk -v a="$rss" -v b="$brss" 'BEGIN {printf "%.1f", a / b}')x"
if [[ -s $work/log ]]; then echo "service log:"; cat "$work/log"; fi
