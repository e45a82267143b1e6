#!/usr/bin/env bash
# Loading a large --input-data JSON file: wall time and peak RSS of perf-analyzer and of the
# reference perf_analyzer, on the same file against the same kserve-sim, alternating.
#
# Usage: bench/input-data-load.sh [SIZE_MB=100] [PAIRS=3] [STEPS=large]
#   STEPS=large: steps of one INT32 [64,64] tensor for identity_int32_dynamic (~28 KB each,
#                3,600-odd steps in 100 MB): the cost of converting numbers.
#   STEPS=small: steps of one FP32 [16] tensor for identity_fp32 (~146 bytes each, 1.37 M
#                steps in 200 MB): the cost of each step and of each prepared request.
# Each tool loads the file and sends one request (--request-count 1), so the figures are
# dominated by reading and converting the file (and, for small steps, by preparing one request
# per step). kserve-sim records every request; after each run the script checks that the first
# request the server received carried the file's first step.
# BENCH_BASELINE=PATH also runs that perf-analyzer binary (another build of ours, e.g. of the
# commit before a change) in each round, between ours and perf_analyzer.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/release-flags.sh
source scripts/release-flags.sh
size_mb=${1:-100}
pairs=${2:-3}
steps=${3:-large}
case "$steps" in
    large|small) ;;
    *) echo "STEPS must be large or small, not '$steps'" >&2; exit 2 ;;
esac

swift build "${RELEASE_FLAGS[@]}" --product perf-analyzer >&2
swift build "${RELEASE_FLAGS[@]}" --product kserve-sim >&2
bin=$(swift build "${RELEASE_FLAGS[@]}" --show-bin-path)
reference=$(scripts/install-perf-analyzer.sh | tail -n 1)

work=$(mktemp -d)
log="$work/sim.log"
record="$work/record.jsonl"
# One server thread: with several, perf_analyzer 2.50 often ends a run with "failed to find the
# requested model version" (exit 99) after it has sent its request.
"$bin/kserve-sim" --http-port 0 --grpc-port 0 --threads 1 --record "$record" >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q 'HTTP listening on' "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*HTTP listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")

# Writes the input file, and the first step's values (as JSON) for the check.
python3 - "$work/input.json" "$size_mb" "$steps" "$work/first-step.json" <<'PY'
import json, random, sys
path, size_mb, steps, first_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
random.seed(7)
target = size_mb * 1_000_000
if steps == "large":
    count, make = 4096, lambda: str(random.randint(-999_999, 999_999))
else:
    # A pool of formatted values keeps generating 20 M of them fast; 4 decimals, a quarter of
    # them negative, give ~146 bytes per step.
    pool = ["%.4f" % random.uniform(-2.5, 7.5) for _ in range(65536)]
    count, make = 16, lambda: pool[random.getrandbits(16)]
with open(path, "w") as out:
    out.write('{"data": [\n')
    written, first = 0, None
    while written < target:
        values = [make() for _ in range(count)]
        step = ('' if first is None else ',\n') + '{"INPUT0": [' + ", ".join(values) + ']}'
        if first is None:
            first = values
        out.write(step)
        written += len(step)
    out.write('\n]}\n')
with open(first_path, "w") as out:
    json.dump([float(v) for v in first], out)
PY
file_mb=$(python3 -c "import os,sys; print(round(os.path.getsize(sys.argv[1]) / 1e6, 1))" "$work/input.json")
if [ "$steps" = large ]; then
    flags=(-m identity_int32_dynamic -u "127.0.0.1:$port" --input-data "$work/input.json" --shape INPUT0:64,64 --request-count 1)
else
    flags=(-m identity_fp32 -u "127.0.0.1:$port" --input-data "$work/input.json" --request-count 1)
fi

# "ok" when the first request recorded since the last truncation carried the first step, else why not.
check_sent() {
    python3 - "$record" "$work/first-step.json" <<'PY'
import json, struct, sys
lines = open(sys.argv[1]).read().splitlines()
expected = json.load(open(sys.argv[2]))
if not lines:
    print("no-request"); sys.exit()
sent = json.loads(lines[0])["inputs"][0]["data"]
# FP32 values went through float32; compare after the same rounding.
as_sent = [struct.unpack("f", struct.pack("f", v))[0] for v in expected]
print("ok" if sent == as_sent else "wrong-data")
PY
}

measure() {  # prints "seconds peak_MB exit_code data_check"
    local out="$work/time.txt"
    : >"$record"
    set +e
    /usr/bin/time -f "%e %M" -o "$out" "$@" >"$work/stdout.txt" 2>"$work/stderr.txt"
    local status=$?
    set -e
    # After a failure, time(1) writes "Command exited with non-zero status N" first.
    read -r seconds kb < <(tail -n 1 "$out")
    if [ "$status" -ne 0 ]; then
        { echo "--- exit $status, last lines of $1's output:"; tail -n 5 "$work/stdout.txt" "$work/stderr.txt"; } >>"$work/failures.txt"
    fi
    echo "$seconds $((kb / 1024)) $status $(check_sent)"
}

step_count=$(grep -c '"INPUT0"' "$work/input.json")
echo "input file: $file_mb MB, $step_count $steps steps; flags: ${flags[*]}"
printf '%-16s %10s %12s %6s %12s\n' tool seconds peak_MB exit sent
for _ in $(seq 1 "$pairs"); do
    read -r s m c d < <(measure "$bin/perf-analyzer" "${flags[@]}")
    printf '%-16s %10s %12s %6s %12s\n' perf-analyzer "$s" "$m" "$c" "$d"
    if [ -n "${BENCH_BASELINE:-}" ]; then
        read -r s m c d < <(measure "$BENCH_BASELINE" "${flags[@]}")
        printf '%-16s %10s %12s %6s %12s\n' baseline "$s" "$m" "$c" "$d"
    fi
    read -r s m c d < <(measure "$reference" "${flags[@]}")
    printf '%-16s %10s %12s %6s %12s\n' perf_analyzer "$s" "$m" "$c" "$d"
done
if [ -s "$work/failures.txt" ]; then cat "$work/failures.txt"; fi
