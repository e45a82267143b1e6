#!/usr/bin/env bash
# Side by side: our --service-kind triton_c_api against perf_analyzer 2.50's, both running
# Triton inside themselves from the same server directory on the same one-model repository
# (identity_fp32, a python-backend model), alternating ours, theirs, ours, theirs, ...
# Each pair runs each tool twice: once in time windows (-p 2000, -s 30: this machine is shared,
# and at -s 10 perf_analyzer often never stabilized) for
# the throughput and latency, once with --request-count N for CPU seconds per 1000 requests
# (user + system of the whole process tree each tool waited for: the client, the in-process
# server and the model's python stub) and peak RSS. perf_analyzer's throughput under
# --request-count is not used: it measures that run in whole seconds (it polls the count once a
# second), so it reports N/2 or N/3 per second whatever the real rate.
# Prints a markdown table of the medians.
#
# Usage: bench/c-api.sh [--pairs N] [--requests N] [--concurrency C] [--ours PATH]
#   --pairs N        ours/theirs pairs [BENCH_PAIRS, 3]
#   --requests N     --request-count of each run [BENCH_CAPI_REQUESTS, 20000]
#   --concurrency C  --concurrency-range [BENCH_CAPI_CONCURRENCY, 1]
#   --ours PATH      our binary [BENCH_OURS, .build/release/perf-analyzer]
#
# Needs scripts/install-triton.sh and scripts/install-perf-analyzer.sh (their caches) and
# /usr/bin/time. perf_analyzer gets LD_LIBRARY_PATH=$TRITON_SERVER_DIRECTORY/lib: without it
# libtritonserver's bundled dependencies are not found (see docs/compatibility.md); ours opens
# them from that folder itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PAIRS="${BENCH_PAIRS:-3}"
REQUESTS="${BENCH_CAPI_REQUESTS:-20000}"
CONCURRENCY="${BENCH_CAPI_CONCURRENCY:-1}"
OURS="${BENCH_OURS:-$ROOT/.build/release/perf-analyzer}"
while [ $# -gt 0 ]; do
    case "$1" in
        --pairs) PAIRS="$2"; shift 2 ;;
        --requests) REQUESTS="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --ours) OURS="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "[bench] unknown argument $1" >&2; exit 2 ;;
    esac
done
log() { echo "[bench] $*" >&2; }
fail() { echo "[bench] ERROR: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || fail "/usr/bin/time not found (apt-get install time)"
# shellcheck source=../scripts/release-flags.sh
source scripts/release-flags.sh
[ -x "$OURS" ] || fail "$OURS not found (swift build ${RELEASE_FLAGS[*]} --product perf-analyzer)"
# shellcheck source=../scripts/triton-env.sh
source scripts/triton-env.sh
[ -x "$PERF_ANALYZER" ] || fail "reference perf_analyzer missing: run scripts/install-perf-analyzer.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/TritonModels"
cp -r Tests/TritonModels/identity_fp32 "$work/TritonModels/"
ln -s "$ROOT/Tests/TritonSupport" "$work/TritonSupport"
args=(-m identity_fp32 --service-kind triton_c_api --triton-server-directory "$TRITON_SERVER_DIRECTORY"
      --model-repository "$work/TritonModels" --concurrency-range "$CONCURRENCY" --input-data zero)

# One pair of runs of a tool: "throughput avg_latency_us cpu_seconds max_rss_kib" on stdout.
measure() { # NAME COMMAND...
    local name=$1; shift
    local out="$work/$name.out" timing="$work/$name.time"
    "$@" "${args[@]}" -p 2000 -s 30 >"$out" 2>"$work/$name.err" || { cat "$work/$name.err" >&2; fail "$name (time windows) failed"; }
    local throughput latency
    throughput=$(grep -m1 '^    Throughput:' "$out" | awk '{print $2}')
    latency=$(grep -m1 '^    Avg latency:' "$out" | awk '{print $3}')
    [ -n "$throughput" ] && [ -n "$latency" ] || { cat "$out" >&2; fail "$name printed no throughput"; }
    /usr/bin/time -f "%U %S %M" -o "$timing" "$@" "${args[@]}" --request-count "$REQUESTS" >"$out" 2>"$work/$name.err" \
        || { cat "$work/$name.err" >&2; fail "$name (--request-count) failed"; }
    read -r user system rss <"$timing"
    echo "$throughput $latency $(python3 -c "print($user + $system)") $rss"
}

ours=() theirs=()
for pair in $(seq 1 "$PAIRS"); do
    log "pair $pair/$PAIRS: ours"
    ours+=("$(measure "ours-$pair" "$OURS")")
    log "pair $pair/$PAIRS: perf_analyzer"
    theirs+=("$(measure "theirs-$pair" env LD_LIBRARY_PATH="$TRITON_SERVER_DIRECTORY/lib" "$PERF_ANALYZER")")
done

python3 - "$REQUESTS" "$CONCURRENCY" "${ours[@]}" -- "${theirs[@]}" <<'PY'
import statistics, sys
requests, concurrency = int(sys.argv[1]), sys.argv[2]
rest = sys.argv[3:]
split = rest.index("--")
def parse(rows):
    rows = [list(map(float, r.split())) for r in rows]
    return [statistics.median(c) for c in zip(*rows)]
ours, theirs = parse(rest[:split]), parse(rest[split + 1:])
cpu = lambda m: m[2] / requests * 1000
print(f"C API, identity_fp32, concurrency {concurrency}, medians of {split} pairs "
      f"(throughput and latency: -p 2000 -s 30 windows; CPU and RSS: --request-count {requests})")
print()
print("| | ours | perf_analyzer 2.50 | ours/theirs |")
print("|---|---|---|---|")
print(f"| throughput (infer/s) | {ours[0]:.0f} | {theirs[0]:.0f} | {ours[0] / theirs[0]:.2f} |")
print(f"| avg latency (usec) | {ours[1]:.0f} | {theirs[1]:.0f} | {ours[1] / theirs[1]:.2f} |")
print(f"| CPU s per 1000 requests (whole process tree) | {cpu(ours):.3f} | {cpu(theirs):.3f} | {cpu(ours) / cpu(theirs):.2f} |")
print(f"| peak RSS (MiB) | {ours[3] / 1024:.0f} | {theirs[3] / 1024:.0f} | {ours[3] / theirs[3]:.2f} |")
PY
