#!/usr/bin/env bash
# Installs the CUDA runtime library (libcudart.so.12, from PyPI's
# nvidia-cuda-runtime-cu12 wheel) into a cache folder outside the clone, so the
# CUDA tests can load a real runtime. Loading it needs no GPU and no driver:
# without them cudaGetDeviceCount simply reports an error, which the tests expect.
#
# Usage:   scripts/install-cuda-runtime.sh
# Env:     PERF_ANALYZER_CACHE  cache root (default: ~/.cache/swift-perf-analyzer)
# Output:  the last line on stdout is the absolute path of the directory holding
#          libcudart.so.12 (what the tests read from CUDA_RUNTIME_DIR).
#
# Safe to run repeatedly: when the library is already there it only prints the path.
set -euo pipefail

# Same version as the runtime bundled for the reference perf_analyzer
# (scripts/install-perf-analyzer.sh), so both tools load the same library.
CUDART_VERSION="12.4.127"

CACHE_DIR="${PERF_ANALYZER_CACHE:-$HOME/.cache/swift-perf-analyzer}"
CUDART_ROOT="$CACHE_DIR/cuda-runtime-$CUDART_VERSION"
LIB_DIR="$CUDART_ROOT/nvidia/cuda_runtime/lib"

log()  { echo "[install-cuda-runtime] $*" >&2; }
fail() { echo "[install-cuda-runtime] ERROR: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=install-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-common.sh"

# Already installed: print the directory and stop (no network, no pip).
if [ -f "$CUDART_ROOT/.complete" ] && [ -f "$LIB_DIR/libcudart.so.12" ]; then
    log "already installed: $LIB_DIR"
    echo "$LIB_DIR"
    exit 0
fi

[ "$(uname -m)" = "x86_64" ] || fail "only x86_64 is supported (found $(uname -m))"

find_pip

# Install into a staging folder and rename it at the end, so an interrupted run
# never leaves a half-filled directory that looks complete.
log "installing nvidia-cuda-runtime-cu12==$CUDART_VERSION (~1 MB) into $CUDART_ROOT"
mkdir -p "$CACHE_DIR"
staging="$CUDART_ROOT.partial.$$"
rm -rf "$staging"
trap 'rm -rf "$staging"' EXIT
# --platform/--only-binary pick the manylinux wheel whatever python3 is; --target
# keeps it out of every Python environment (and outside PEP 668's reach).
"${PIP[@]}" install --disable-pip-version-check --root-user-action=ignore --no-deps --no-compile \
    --only-binary=:all: --platform manylinux2014_x86_64 --target "$staging" \
    "nvidia-cuda-runtime-cu12==$CUDART_VERSION" >&2 \
    || fail "pip install of nvidia-cuda-runtime-cu12==$CUDART_VERSION failed"
[ -f "$staging/nvidia/cuda_runtime/lib/libcudart.so.12" ] \
    || fail "libcudart.so.12 not found in the nvidia-cuda-runtime-cu12 wheel"
rm -rf "$CUDART_ROOT"
mv "$staging" "$CUDART_ROOT"
trap - EXIT
echo "$CUDART_VERSION" > "$CUDART_ROOT/.complete"

if ldd "$LIB_DIR/libcudart.so.12" | grep -q 'not found'; then
    ldd "$LIB_DIR/libcudart.so.12" | grep 'not found' >&2
    fail "libcudart.so.12 has unresolved shared libraries (see above)"
fi
log "CUDA runtime ready: $LIB_DIR"
echo "$LIB_DIR"
