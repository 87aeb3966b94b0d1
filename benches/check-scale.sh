#!/usr/bin/env bash
# Benchmark of `damo-policy check` at scale: generates directories of N policy files (the
# example policies, renamed so names stay unique) and measures the wall time of a check of
# each, median of RUNS runs, beside a baseline measured in the same run: `cat` of the same
# files (the cost of reading them at all). Figures are reported as ms and as ratios to
# that baseline, since the machines are shared and noisy.
#
#   benches/check-scale.sh [N...]        default: 10 1000 10000
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10 1000 10000)

cargo build --release -q
bin=target/release/damo-policy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate() { # DIR N: N policies cycling through the examples, each with a unique name
    local dir=$1 n=$2
    mkdir -p "$dir"
    cp policies/damo-policy.toml "$dir/"
    local examples=(policies/*.toml)
    local i=0
    while (( i < n )); do
        for src in "${examples[@]}"; do
            [[ $(basename "$src") == damo-policy.toml ]] && continue
            (( i < n )) || break
            sed -e "s/^name = \"\(.*\)\"/name = \"\1-$i\"/" "$src" > "$dir/p$(printf %05d $i).toml"
            i=$((i + 1))
        done
    done
}

median_ms() { # COMMAND...: median wall time over RUNS runs, in ms
    local times=()
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

printf '%-8s %12s %14s %12s %10s\n' files "check (ms)" "per file (µs)" "cat (ms)" "ratio"
for n in "${sizes[@]}"; do
    dir=$work/n$n
    generate "$dir" "$n"
    "$bin" check "$dir" --deny-warnings >/dev/null || { echo "generated policies do not pass check" >&2; exit 1; }
    check_ms=$(median_ms "$bin" check "$dir")
    cat_ms=$(median_ms sh -c "cat '$dir'/*.toml")
    per_file=$(awk -v t="$check_ms" -v n="$n" 'BEGIN {printf "%.1f", t * 1000 / n}')
    ratio=$(awk -v a="$check_ms" -v b="$cat_ms" 'BEGIN {printf "%.1fx", a / b}')
    printf '%-8s %12s %14s %12s %10s\n' "$n" "$check_ms" "$per_file" "$cat_ms" "$ratio"
done

# One small file: process CPU time (user + system, median of RUNS), the figure that matters
# for editors and hooks, beside `true` as the process-start baseline.
one=$work/n10/p00000.toml
cpu_ms() {
    local times=() TIMEFORMAT='%U %S'
    for _ in $(seq "$RUNS"); do
        times+=("$( { time "$@" >/dev/null 2>&1; } 2>&1 | awk '{printf "%.0f", ($1 + $2) * 1000}')")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
echo "one small file: $(cpu_ms "$bin" check "$one") ms process CPU, $(median_ms "$bin" check "$one") ms wall; \`true\`: $(median_ms true) ms wall"
