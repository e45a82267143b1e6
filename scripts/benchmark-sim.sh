#!/usr/bin/env bash
# Builds perf-analyzer and kserve-sim (release), starts kserve-sim on a free
# loopback port, runs a real benchmark against it, and stops the server.
#
# Usage: scripts/benchmark-sim.sh [perf-analyzer flags...]
# Default flags: -m identity_fp32 --concurrency-range 1:4 -p 2000 -s 25 -r 20
# (2-second windows, stable within 25%: quick and robust on a busy machine).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release-flags.sh
source scripts/release-flags.sh

swift build "${RELEASE_FLAGS[@]}" --product kserve-sim >&2
swift build "${RELEASE_FLAGS[@]}" --product perf-analyzer >&2
bin=$(swift build "${RELEASE_FLAGS[@]}" --show-bin-path)

log=$(mktemp)
"$bin/kserve-sim" --http-port 0 --grpc-port 0 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -f "$log"' EXIT

# kserve-sim prints "kserve-sim: HTTP listening on 127.0.0.1:PORT" once it listens.
for _ in $(seq 1 100); do
    grep -q 'listening on' "$log" && break
    kill -0 $sim 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/.*HTTP listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")
[ -n "$port" ] || { echo "kserve-sim did not start:" >&2; cat "$log" >&2; exit 1; }

if [ $# -eq 0 ]; then
    set -- -m identity_fp32 --concurrency-range 1:4 -p 2000 -s 25 -r 20
fi
"$bin/perf-analyzer" -u "127.0.0.1:$port" "$@"
