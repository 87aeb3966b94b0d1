#!/usr/bin/env bash
# Benchmark of hostile input sizes: each command on generated inputs of N, 2N and 4N bytes
# (4N about 1 MB, the size limit of a policy file), median wall time of RUNS runs and peak
# RSS, beside a baseline measured in the same run: `wc -l` of the same file (the cost of
# reading it at all, since the machines are shared and noisy). The last column is the time
# over the time at half the size: about 2 for a linear command, 4 for a quadratic one.
#
#   benches/hostile-scale.sh [N_BYTES]        default: 250000
#   BIN=path/to/damo-policy benches/hostile-scale.sh    another build, e.g. an older one
#
# Inputs: check and compile of unknown keys (errors), of a valid policy whose every filter
# is warned about, of deep values of the wrong type, and of one long line of unknown keys;
# translate of damo's legacy scheme lines, valid and bad; import of a damo kdamonds JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
TIMEOUT=${TIMEOUT:-120} # seconds a run may take; a slower one counts as this long
n=${1:-250000}

if [[ -z ${BIN:-} ]]; then
    cargo build --release -q
fi
bin=${BIN:-$PWD/target/release/damo-policy}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# FILE BYTES HEAD UNIT TAIL: HEAD, then UNIT (`%d` is its number) repeated up to BYTES, then TAIL.
generate() {
    awk -v bytes="$2" -v head="$3" -v unit="$4" -v tail="$5" 'BEGIN {
        printf "%s", head; size = length(head) + length(tail)
        for (i = 0; size < bytes; i++) { line = sprintf(unit, i); printf "%s", line; size += length(line) }
        printf "%s", tail
    }' > "$1"
}

# A damo kdamonds JSON of one context whose schemes fill BYTES.
kdamonds() {
    local scheme='{"action": "pageout", "dests": [], "access_pattern": {"sz_bytes": {"min": "4096", "max": "18446744073709551615"}, "nr_accesses": {"min": "0 %%", "max": "0 %%"}, "age": {"min": "5000000", "max": "18446744073709551615000"}}, "apply_interval_us": "0", "quotas": {"time_ms": "0", "sz_bytes": "%d", "reset_interval_ms": "1000", "goals": [], "weights": {"sz_permil": "0.000000", "nr_accesses_permil": "0.000000", "age_permil": "0.000000"}}, "watermarks": {"metric": "none", "interval_us": "0", "high_permil": "0.000000", "mid_permil": "0.000000", "low_permil": "0.000000"}, "filters": []},\n'
    generate "$1" "$2" '{"kdamonds": [{"refresh_ms": 0, "contexts": [{"ops": "paddr", "targets": [{"pid": null, "regions": []}], "intervals": {"sample_us": "5000", "aggr_us": "100000", "ops_update_us": "1000000"}, "nr_regions": {"min": "10", "max": "1000"}, "schemes": [
' "$scheme" '{"action": "stat", "access_pattern": {"sz_bytes": {"min": "0", "max": "4096"}, "nr_accesses": {"min": "0 %", "max": "0 %"}, "age": {"min": "0", "max": "0"}}}]}]}]}
'
}

# KIND SIZE: writes $work/KIND-SIZE.EXT and prints its path.
input() {
    local kind=$1 size=$2 file
    case $kind in
    unknown-keys)
        file=$work/$kind-$size.toml
        generate "$file" "$size" $'name = "big"\n' $'k%d = 1\n' $'[target]\nphysical = true\n' ;;
    warned-filters)
        file=$work/$kind-$size.toml
        generate "$file" "$size" $'name = "big"\n[target]\npids = [1]\n[[scheme]]\naction = "stat"\n' \
            $'[[scheme.filter]]\ntype = "anon"\n' '' ;;
    deep-values)
        file=$work/$kind-$size.toml
        generate "$file" "$size" $'name = "big"\n[target]\nphysical = true\n' \
            $'[[scheme]]\naction = "stat"\naccess_pattern = { size = { min = [[[[[[[[%d]]]]]]]] } }\n' '' ;;
    long-line)
        file=$work/$kind-$size.toml
        generate "$file" "$size" $'name = "big"\n[target]\nphysical = true\n[[scheme]]\naction = "stat"\nquota = { ' \
            'k%d = 1, ' $'z = 1 }\n' ;;
    legacy-valid)
        file=$work/$kind-$size.damos
        generate "$file" "$size" '' $'4K max min min %ds max pageout\n' '' ;;
    legacy-bad)
        file=$work/$kind-$size.damos
        generate "$file" "$size" '' $'4k max 5 max 5S max BOGUS%d\n' '' ;;
    kdamonds)
        file=$work/$kind-$size.json
        kdamonds "$file" "$size" ;;
    esac
    echo "$file"
}

median_ms() { # COMMAND...: median wall time over RUNS runs, in ms
    local times=()
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s%N)
        timeout "$TIMEOUT" "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

peak_mib() { # COMMAND...: peak resident memory of one run, in MiB
    /usr/bin/time -f %M -o "$work/rss" timeout "$TIMEOUT" "$@" >/dev/null 2>&1 || true
    # The last line: a failed command's status comes before it.
    tail -n 1 "$work/rss" | awk '{printf "%.1f", $1 / 1024}'
}

printf '%-9s %-15s %9s %10s %8s %9s %9s %10s\n' command input bytes "time (ms)" "wc (ms)" ratio "RSS (MiB)" "x per 2x"
measure() { # COMMAND KIND ARGS...: one line per size
    local command=$1 kind=$2
    shift 2
    local previous=""
    for size in "$n" $((2 * n)) $((4 * n)); do
        local file bytes ms wc_ms rss ratio growth
        file=$(input "$kind" "$size")
        bytes=$(wc -c < "$file")
        ms=$(median_ms "$bin" "$command" "$@" "$file")
        wc_ms=$(median_ms wc -l "$file")
        rss=$(peak_mib "$bin" "$command" "$@" "$file")
        ratio=$(awk -v a="$ms" -v b="$wc_ms" 'BEGIN {printf "%.0fx", a / b}')
        growth=$([[ -n $previous ]] && awk -v a="$ms" -v b="$previous" 'BEGIN {printf "%.2f", a / b}' || echo -)
        printf '%-9s %-15s %9s %10s %8s %9s %9s %10s\n' "$command" "$kind" "$bytes" "$ms" "$wc_ms" "$ratio" "$rss" "$growth"
        previous=$ms
    done
}

for kind in unknown-keys warned-filters deep-values long-line; do
    measure check "$kind"
    measure compile "$kind"
done
measure translate legacy-valid
measure translate legacy-bad
measure import kdamonds
