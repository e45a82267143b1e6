#!/usr/bin/env bash
# Peak memory with --profile-export-file on a long run: perf-analyzer and the reference
# perf_analyzer, the same flags against the same kserve-sim (--delay-us 1000: about 8,000
# requests a second at concurrency 8), for a short and a long run of fixed work. Ours writes
# the export as the run goes, so its RSS should not grow with the run; perf_analyzer keeps
# every record until the end.
#
# Usage: bench/export-memory.sh [SHORT_S=15] [LONG_S=60] [RATE=8000]
# Each run is --request-count SECONDS x RATE at --concurrency-range 8; prints seconds, peak RSS,
# the export's size and the exit code of each run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/release-flags.sh
source scripts/release-flags.sh
short_s=${1:-15}
long_s=${2:-60}
rate=${3:-8000}

swift build "${RELEASE_FLAGS[@]}" --product perf-analyzer >&2
swift build "${RELEASE_FLAGS[@]}" --product kserve-sim >&2
bin=$(swift build "${RELEASE_FLAGS[@]}" --show-bin-path)
reference=$(scripts/install-perf-analyzer.sh | tail -n 1)

work=$(mktemp -d)
log="$work/sim.log"
"$bin/kserve-sim" --http-port 0 --grpc-port 0 --delay-us 1000 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*HTTP listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")

measure() {  # prints "seconds peak_MB export_MB exit_code"
    local export="$work/export-$RANDOM$RANDOM.json"
    local out="$work/time.txt"
    set +e
    /usr/bin/time -f "%e %M" -o "$out" "$@" --profile-export-file "$export" >/dev/null 2>"$work/stderr.txt"
    local status=$?
    set -e
    read -r seconds kb < <(tail -n 1 "$out")
    local size=0
    [ -f "$export" ] && size=$(python3 -c "import os,sys; print(round(os.path.getsize(sys.argv[1]) / 1e6))" "$export")
    rm -f "$export"
    echo "$seconds $((kb / 1024)) $size $status"
}

printf '| tool | --request-count | seconds | peak RSS (MB) | export (MB) | exit |\n|---|---|---|---|---|---|\n'
for seconds in "$short_s" "$long_s"; do
    count=$((seconds * rate))
    flags=(-m identity_fp32 -u "127.0.0.1:$port" --concurrency-range 8 --request-count "$count")
    read -r s m e c < <(measure "$bin/perf-analyzer" "${flags[@]}")
    printf '| perf-analyzer | %s | %s | %s | %s | %s |\n' "$count" "$s" "$m" "$e" "$c"
    read -r s m e c < <(measure "$reference" "${flags[@]}")
    printf '| perf_analyzer 2.50 | %s | %s | %s | %s | %s |\n' "$count" "$s" "$m" "$e" "$c"
done
