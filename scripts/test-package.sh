#!/usr/bin/env bash
# Installs what scripts/package.sh made where no Swift toolchain can be seen, and uses it:
#   - the wheel, with pip, into a new virtual environment in an empty folder;
#   - the tarball, unpacked into another.
# Each runs in its own mount namespace in which /opt/swift (the toolchain, wherever `swift`
# lives) is an empty folder, with an environment holding only PATH (the venv's bin, /usr/bin,
# /bin) and HOME. There it checks the loader finds every library, prints --version of both
# tools, starts the package's own kserve-sim and runs a short benchmark over HTTP and gRPC, and
# compares the requests perf-analyzer reports with those kserve-sim counted.
#
# Usage: scripts/test-package.sh TARBALL WHEEL   (needs root, for the mount namespace)
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=$(realpath "${1:?TARBALL}")
wheel=$(realpath "${2:?WHEEL}")
version=$(sed -n 's/.*public static let current = "\(.*\)".*/\1/p' Sources/KServeProtocol/ReleaseVersion.swift)
log() { echo "[test-package] $*" >&2; }
fail() { echo "[test-package] FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root to hide the toolchain in a mount namespace (unshare --mount)"
toolchain=$(dirname "$(dirname "$(dirname "$(realpath "$(command -v swift)")")")")
[ -d "$toolchain" ] || fail "could not find the Swift toolchain's folder from $(command -v swift)"

work=$(mktemp -d /tmp/spa-package-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

log "wheel: a new virtual environment in $work/venv, pip install $(basename "$wheel")"
python3 -m venv "$work/venv"
# No index: the wheel must install with nothing else, and pip refuses a platform tag this
# machine's glibc does not satisfy.
"$work/venv/bin/python" -m pip install --quiet --no-index "$wheel" \
    || fail "pip install $(basename "$wheel") failed"
mkdir -p "$work/tarball"
tar -C "$work/tarball" -xzf "$tarball"
unpacked="$work/tarball/swift-perf-analyzer-$version"
[ -x "$unpacked/perf-analyzer" ] && [ -x "$unpacked/kserve-sim" ] \
    || fail "the tarball has no swift-perf-analyzer-$version/perf-analyzer and kserve-sim: $(tar -tzf "$tarball" | paste -sd ' ')"
for file in README.md LICENSE THIRD_PARTY_LICENSES; do
    [ -s "$unpacked/$file" ] || fail "the tarball has no $file"
done

# What runs inside the namespace: BIN_DIR LABEL.
cat >"$work/use.sh" <<'USE'
set -euo pipefail
bin=$1 label=$2
fail() { echo "[test-package] FAIL ($label): $*" >&2; exit 1; }
[ -z "$(ls -A "$TOOLCHAIN")" ] || fail "$TOOLCHAIN is still visible"
! command -v swift >/dev/null || fail "swift is still on the PATH: $(command -v swift)"
[ "$(command -v perf-analyzer)" = "$bin/perf-analyzer" ] || fail "perf-analyzer resolves to $(command -v perf-analyzer), not $bin/perf-analyzer"
for tool in perf-analyzer kserve-sim; do
    libraries=$(ldd "$bin/$tool" 2>&1) || fail "ldd $tool: $libraries"
    ! grep -q "not found" <<<"$libraries" || fail "$tool: a library is missing: $libraries"
done
pa_version=$(perf-analyzer --version) || fail "perf-analyzer --version exited $?"
sim_version=$(kserve-sim --version) || fail "kserve-sim --version exited $?"
[[ "$pa_version" == "perf-analyzer $VERSION "* ]] || fail "perf-analyzer --version printed '$pa_version'"
[[ "$sim_version" == "kserve-sim $VERSION "* ]] || fail "kserve-sim --version printed '$sim_version'"
echo "[test-package] $label: $pa_version; $sim_version"

kserve-sim --http-port 0 --grpc-port 0 >"$WORK/sim-$label.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "gRPC listening" "$WORK/sim-$label.log" && break; sleep 0.1; done
http=$(sed -n 's/.*HTTP listening on \(.*\)/\1/p' "$WORK/sim-$label.log")
grpc=$(sed -n 's/.*gRPC listening on \(.*\)/\1/p' "$WORK/sim-$label.log")
[ -n "$http" ] && [ -n "$grpc" ] || fail "kserve-sim did not start: $(cat "$WORK/sim-$label.log")"
served() {
    python3 -c 'import json, sys, urllib.request
stats = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}/v2/models/identity_fp32/stats"))
print(stats["model_stats"][0]["inference_stats"]["success"]["count"])' "$http"
}
before=0
for protocol in http grpc; do
    url=$http; [ "$protocol" = grpc ] && url=$grpc
    perf-analyzer -m identity_fp32 -i "$protocol" -u "$url" --concurrency-range 2 --request-count 300 \
        >"$WORK/run-$label-$protocol.out" 2>&1 || fail "perf-analyzer -i $protocol exited $?: $(cat "$WORK/run-$label-$protocol.out")"
    reported=$(sed -n 's/.*Request count: \([0-9]*\).*/\1/p' "$WORK/run-$label-$protocol.out" | head -n 1)
    total=$(served)
    echo "[test-package] $label, $protocol: perf-analyzer reported $reported requests, kserve-sim served $((total - before))"
    [ "$reported" = 300 ] && [ "$((total - before))" = 300 ] \
        || fail "$protocol: expected 300 reported and served; run output: $(cat "$WORK/run-$label-$protocol.out")"
    before=$total
done
USE

run_hidden() { # BIN_DIR LABEL
    unshare --mount --propagation private -- bash -c '
        mount -t tmpfs -o ro,size=1m none "$1" && shift &&
        exec env -i PATH="$1:/usr/bin:/bin" HOME="$WORK" TOOLCHAIN="$TOOLCHAIN" WORK="$WORK" VERSION="$VERSION" \
            bash "$WORK/use.sh" "$@"' _ "$toolchain" "$1" "$2"
}
export WORK="$work" TOOLCHAIN="$toolchain" VERSION="$version"
run_hidden "$work/venv/bin" wheel || fail "the wheel's binaries, with $toolchain hidden"
run_hidden "$unpacked" tarball || fail "the tarball's binaries, with $toolchain hidden"
log "ok"
