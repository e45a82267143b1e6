#!/usr/bin/env bash
# Installs a CPU-only Triton Inference Server (2.51, taken from PyPI's
# nvidia-pytriton wheel) plus its Python backend into a cache folder that
# lives outside the clone, so it is downloaded only once per machine.
#
# Usage:   scripts/install-triton.sh
# Env:     PERF_ANALYZER_CACHE  cache root (default: ~/.cache/swift-perf-analyzer)
# Output:  the last line on stdout is the absolute path of the tritonserver binary.
#          `source scripts/triton-env.sh` afterwards exports TRITONSERVER,
#          TRITON_BACKENDS and TRITON_SERVER_DIRECTORY (for --service-kind triton_c_api).
#
# Safe to run repeatedly: every step checks whether it is already done.
set -euo pipefail

PYTRITON_VERSION="0.5.14"        # ships Triton 2.51
PYTRITON_PLATFORM="manylinux_2_35_x86_64"
STUB_PYTHON="3.11"               # must match Debian 12's libpython

CACHE_DIR="${PERF_ANALYZER_CACHE:-$HOME/.cache/swift-perf-analyzer}"
WHEEL_DIR="$CACHE_DIR/wheels"
TRITON_ROOT="$CACHE_DIR/triton-$PYTRITON_VERSION"
WHEEL_FILE="nvidia_pytriton-$PYTRITON_VERSION-py3-none-$PYTRITON_PLATFORM.whl"

log()  { echo "[install-triton] $*" >&2; }
fail() { echo "[install-triton] ERROR: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=install-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-common.sh"

[ "$(uname -m)" = "x86_64" ] || fail "only x86_64 is supported (found $(uname -m))"

# --- system packages ---------------------------------------------------------
# The python backend stub embeds Debian's libpython3.11 and imports numpy from
# Debian's dist-packages; unzip is needed to unpack the wheel.

# --- pip (only used to fetch wheels, never to install them) ------------------
pip_download() {
    find_pip
    "${PIP[@]}" download --disable-pip-version-check --no-deps --only-binary=:all: "$@" >&2
}

apt_install "python3-numpy" "libpython$STUB_PYTHON" "unzip"

# --- download ----------------------------------------------------------------
mkdir -p "$WHEEL_DIR"
if [ ! -s "$WHEEL_DIR/$WHEEL_FILE" ]; then
    log "downloading nvidia-pytriton==$PYTRITON_VERSION (~55 MB) into $WHEEL_DIR"
    pip_download --platform "$PYTRITON_PLATFORM" --python-version "$STUB_PYTHON" \
        -d "$WHEEL_DIR" "nvidia-pytriton==$PYTRITON_VERSION" \
        || fail "pip download of nvidia-pytriton==$PYTRITON_VERSION failed"
    [ -s "$WHEEL_DIR/$WHEEL_FILE" ] || fail "expected $WHEEL_DIR/$WHEEL_FILE after download"
else
    log "wheel already cached: $WHEEL_DIR/$WHEEL_FILE"
fi

# --- unpack (whole wheel, layout kept: binaries find nvidia_pytriton.libs via RPATH)
SERVER_DIR="$TRITON_ROOT/pytriton/tritonserver"
if [ ! -f "$TRITON_ROOT/.complete" ]; then
    log "unpacking into $TRITON_ROOT"
    staging="$TRITON_ROOT.partial.$$"
    rm -rf "$staging"
    trap 'rm -rf "$staging"' EXIT
    mkdir -p "$staging"
    unzip -q "$WHEEL_DIR/$WHEEL_FILE" -d "$staging" || fail "unzip of $WHEEL_FILE failed"
    stub_src="$staging/pytriton/tritonserver/python_backend_stubs/$STUB_PYTHON/triton_python_backend_stub"
    [ -f "$stub_src" ] || fail "python $STUB_PYTHON backend stub missing from wheel"
    # The python backend looks for its stub next to libtriton_python.so.
    cp "$stub_src" "$staging/pytriton/tritonserver/backends/python/"
    chmod +x "$staging/pytriton/tritonserver/bin/tritonserver" \
             "$staging/pytriton/tritonserver/backends/python/triton_python_backend_stub"
    rm -rf "$TRITON_ROOT"
    mv "$staging" "$TRITON_ROOT"
    trap - EXIT
    echo "$PYTRITON_VERSION" > "$TRITON_ROOT/.complete"
else
    log "already unpacked: $TRITON_ROOT"
fi

# --- server directory for --service-kind triton_c_api -------------------------
# The C API kind (ours and perf_analyzer's) opens DIR/lib/libtritonserver.so and loads
# backends from DIR/backends. The wheel's server folder already has backends/ and caches/;
# lib/ gets links to libtritonserver and every library bundled beside it, under their own
# names. lib/ sits where bin/tritonserver's RPATH (${ORIGIN}/../lib) expects it, and
# backends/python/ keeps the depth its RPATH needs to reach nvidia_pytriton.libs.
# The bundled libraries carry no RUNPATH of their own, so libtritonserver's indirect
# dependencies (libcurl's libnghttp2, ...) are found only when lib/ is searched: perf_analyzer
# needs LD_LIBRARY_PATH=DIR/lib; perf-analyzer opens them from DIR/lib itself.
server_lib="$SERVER_DIR/lib"
mkdir -p "$server_lib" "$SERVER_DIR/repoagents"
for library in "$TRITON_ROOT"/nvidia_pytriton.libs/*; do
    ln -sfn "../../../nvidia_pytriton.libs/$(basename "$library")" "$server_lib/$(basename "$library")"
done
triton_library=$(cd "$TRITON_ROOT/nvidia_pytriton.libs" && ls libtritonserver-*.so 2>/dev/null | head -n 1)
[ -n "$triton_library" ] || fail "libtritonserver-*.so missing from $TRITON_ROOT/nvidia_pytriton.libs"
ln -sfn "../../../nvidia_pytriton.libs/$triton_library" "$server_lib/libtritonserver.so"
if LD_LIBRARY_PATH="$server_lib" ldd "$server_lib/libtritonserver.so" | grep -q 'not found'; then
    LD_LIBRARY_PATH="$server_lib" ldd "$server_lib/libtritonserver.so" | grep 'not found' >&2
    fail "$server_lib/libtritonserver.so has unresolved shared libraries (see above)"
fi

# --- sanity checks -----------------------------------------------------------
TRITONSERVER="$SERVER_DIR/bin/tritonserver"
STUB="$SERVER_DIR/backends/python/triton_python_backend_stub"
[ -x "$TRITONSERVER" ] || fail "$TRITONSERVER is missing; delete $TRITON_ROOT and rerun"
for bin in "$TRITONSERVER" "$STUB"; do
    if ldd "$bin" | grep -q 'not found'; then
        ldd "$bin" | grep 'not found' >&2
        fail "$bin has unresolved shared libraries (see above)"
    fi
done
/usr/bin/python3 -c 'import numpy' 2>/dev/null \
    || fail "Debian's /usr/bin/python3 cannot import numpy (python3-numpy broken?)"
log "Triton ready. Backends: $SERVER_DIR/backends; C API server directory: $SERVER_DIR"
echo "$TRITONSERVER"
