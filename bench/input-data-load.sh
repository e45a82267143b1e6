#!/usr/bin/env bash
# Loading a large --input-data JSON file: wall time and peak RSS of perf-analyzer and of the
# reference perf_analyzer, on the same file against the same kserve-sim, alternating.
#
# Usage: bench/input-data-load.sh [SIZE_MB=100] [PAIRS=3]
# Each tool loads the file and sends one request (--request-count 1), so the figures are
# dominated by reading and converting the file.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-100}
pairs=${2:-3}

swift build -c release --product perf-analyzer >&2
swift build -c release --product kserve-sim >&2
bin=$(swift build -c release --show-bin-path)
reference=$(scripts/install-perf-analyzer.sh | tail -n 1)

work=$(mktemp -d)
log="$work/sim.log"
"$bin/kserve-sim" --http-port 0 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")

# Steps of 64x64 INT32 for identity_int32_dynamic (INT32 [-1,-1]), shape from --shape.
python3 - "$work/input.json" "$size_mb" <<'PY'
import random, sys
path, size_mb = sys.argv[1], int(sys.argv[2])
random.seed(7)
target = size_mb * 1_000_000
with open(path, "w") as out:
    out.write('{"data": [\n')
    written, first = 0, True
    while written < target:
        values = ",".join(str(random.randint(-999_999, 999_999)) for _ in range(4096))
        step = ('' if first else ',\n') + '{"INPUT0": [' + values + ']}'
        out.write(step)
        written += len(step)
        first = False
    out.write('\n]}\n')
PY
file_mb=$(python3 -c "import os,sys; print(round(os.path.getsize(sys.argv[1]) / 1e6, 1))" "$work/input.json")
flags=(-m identity_int32_dynamic -u "127.0.0.1:$port" --input-data "$work/input.json" --shape INPUT0:64,64 --request-count 1)

measure() {  # prints "seconds peak_MB exit_code"
    local out="$work/time.txt"
    set +e
    /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>"$work/stderr.txt"
    local status=$?
    set -e
    read -r seconds kb <"$out"
    echo "$seconds $((kb / 1024)) $status"
}

echo "input file: $file_mb MB; flags: ${flags[*]}"
printf '%-16s %10s %12s %6s\n' tool seconds peak_MB exit
for _ in $(seq 1 "$pairs"); do
    read -r s m c < <(measure "$bin/perf-analyzer" "${flags[@]}")
    printf '%-16s %10s %12s %6s\n' perf-analyzer "$s" "$m" "$c"
    read -r s m c < <(measure "$reference" "${flags[@]}")
    printf '%-16s %10s %12s %6s\n' perf_analyzer "$s" "$m" "$c"
done
