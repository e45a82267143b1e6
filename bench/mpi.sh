#!/usr/bin/env bash
# One perf-analyzer process against two MPI ranks (--enable-mpi --mpi-split-load) on the same
# kserve-sim: the same concurrency and the same request rate, each run's figures next to what
# the server counted. On a 2-core machine this shows that the merged figures are right, not
# that two ranks scale (they share the cores with the server).
#
# Usage: bench/mpi.sh [BIN_DIR]   (default .build/release if built, else .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$( [ -x .build/release/perf-analyzer ] && echo .build/release || echo .build/debug )}
mpirun=$(scripts/install-mpi.sh | tail -n 1)
work=$(mktemp -d)
"$bin/kserve-sim" --http-port 0 --grpc-port 0 --threads 1 >"$work/sim.out" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "HTTP listening" "$work/sim.out" && break; sleep 0.1; done
url=$(sed -n 's/.*HTTP listening on \(.*\)/\1/p' "$work/sim.out" | head -n 1)
mpi=("$mpirun" --allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

served() {  # the simulator's own success count for identity_fp32
    curl -sf "http://$url/v2/models/identity_fp32/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model_stats"][0]["inference_stats"]["success"]["count"])'
}
report() {  # label, output file, served before, served after
    local thr count
    thr=$(sed -n 's/.*Throughput: \([0-9.]*\) infer\/sec.*/\1/p' "$2" | head -n 1)
    count=$(sed -n 's/.*Request count: \([0-9]*\).*/\1/p' "$2" | head -n 1)
    printf '| %-34s | %10s | %8s | %8s |\n' "$1" "$thr" "$count" "$(( $4 - $3 ))"
}
printf '| %-34s | %10s | %8s | %8s |\n' "run" "infer/sec" "reported" "served"
printf '|%s|%s|%s|%s|\n' "------------------------------------" "------------" "----------" "----------"
for load in "--concurrency-range 4 --request-count 20000" "--request-rate-range 1000 -p 2000 -s 50"; do
    # shellcheck disable=SC2086
    a=$(served); "$bin/perf-analyzer" -m identity_fp32 -u "$url" $load >"$work/one.txt"; b=$(served)
    report "1 process, $load" "$work/one.txt" "$a" "$b"
    # shellcheck disable=SC2086
    a=$(served); "${mpi[@]}" -np 2 "$bin/perf-analyzer" --enable-mpi --mpi-split-load -m identity_fp32 -u "$url" $load >"$work/two.txt"; b=$(served)
    report "2 ranks, $load" "$work/two.txt" "$a" "$b"
done
