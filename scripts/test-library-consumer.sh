#!/usr/bin/env bash
# Uses PerfAnalyzerKit as another project would: a package in Tests/LibraryConsumer depends on
# it by version, from a git copy of this repository tagged with that version, builds it (so
# SwiftPM's rules for versioned dependencies apply: no unsafe build flags), and runs a short
# benchmark through the library against kserve-sim, checking the server's own count.
# Needs the main build (scripts/test.sh builds it first) for kserve-sim.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=$(sed -n 's/.*public static let current = "\(.*\)".*/\1/p' Sources/KServeProtocol/ReleaseVersion.swift)
work=$(mktemp -d)
sim_pid=""
cleanup() {
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== library consumer: a git copy of the tree, tagged $version" >&2
repository="$work/swift-perf-analyzer"
mkdir -p "$repository"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$repository/" 2>/dev/null || true
git -C "$repository" init -q
git -C "$repository" add -A
git -C "$repository" -c user.name=test -c user.email=test@localhost commit -qm "library consumer test copy"
git -C "$repository" tag "$version"

consumer="$work/consumer"
mkdir -p "$consumer"
cp -r Tests/LibraryConsumer/Sources "$consumer/"
sed -e "s|@REPOSITORY@|$repository|" -e "s|@VERSION@|$version|" Tests/LibraryConsumer/Package.swift.in > "$consumer/Package.swift"

echo "== library consumer: building (its own build of every dependency)" >&2
swift build --package-path "$consumer" 2>&1 | tail -n 5

log="$work/sim.log"
"$root/.build/debug/kserve-sim" --http-port 0 --grpc-port 0 > "$log" 2>&1 &
sim_pid=$!
for _ in $(seq 50); do grep -q "HTTP listening" "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*HTTP listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
[ -n "$port" ] || { echo "library consumer: kserve-sim did not start: $(cat "$log")" >&2; exit 1; }

echo "== library consumer: a benchmark through the library against kserve-sim on port $port" >&2
report=$("$consumer/.build/debug/LibraryConsumer" -m identity_fp32 -u "127.0.0.1:$port" --concurrency-range 2 --request-count 200)
echo "$report" | grep -q "Request count: 200" || { echo "library consumer: the report lacks 'Request count: 200':"; echo "$report"; exit 1; } >&2
served=$(curl -s "http://127.0.0.1:$port/v2/models/identity_fp32/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model_stats"][0]["inference_stats"]["success"]["count"])')
if [ "$served" != "200" ]; then
    echo "library consumer: kserve-sim served $served requests, the library reported 200" >&2
    exit 1
fi
echo "library consumer: the 200 requests the library reported are the 200 kserve-sim served" >&2
