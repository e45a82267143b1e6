#!/usr/bin/env bash
# Installs a CPU-only OpenAI-compatible LLM server (llama.cpp through PyPI's
# llama-cpp-python[server], built from source by pip) and a tiny random-weight
# llama model written by scripts/make-tiny-gguf.py, into a cache folder outside
# the clone, so the (slow) build happens only once per machine.
#
# Usage:   scripts/install-llama-server.sh
# Env:     PERF_ANALYZER_CACHE  cache root (default: ${XDG_CACHE_HOME:-~/.cache}/swift-perf-analyzer)
# Output:  the last line on stdout is the absolute path of the venv's python
#          (run the server with `PYTHON -m llama_cpp.server`; scripts/start-llama-server.sh
#          does that). The model is LLAMA_ROOT/models/tiny-llama.gguf beside the venv.
#
# Layout:  $CACHE/wheels/llama_cpp_python-VERSION-py3-none-linux_x86_64.whl  (built once, kept)
#          $CACHE/llama-cpp-python-VERSION/venv/                            (server + gguf)
#          $CACHE/llama-cpp-python-VERSION/models/tiny-llama.gguf            (random weights)
#
# Safe to run repeatedly: every step checks whether it is already done. The first run
# builds llama.cpp (8-14 minutes on 2 busy cores); later runs take a few seconds.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION="0.3.36"   # sdist only (no Linux wheels on PyPI); Python >= 3.8
GGUF_VERSION="0.19.0"               # Python >= 3.10

CACHE_DIR="${PERF_ANALYZER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swift-perf-analyzer}"
WHEEL_DIR="$CACHE_DIR/wheels"
LLAMA_ROOT="$CACHE_DIR/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION"
VENV="$LLAMA_ROOT/venv"
MODEL="$LLAMA_ROOT/models/tiny-llama.gguf"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MAKE_GGUF="$SCRIPT_DIR/make-tiny-gguf.py"

# Everything pip installs is pinned to the versions tested together (the server's SSE framing
# comes from sse-starlette/starlette, its error answers from fastapi/pydantic), and so is the
# build backend of the wheel. Changing a pin rebuilds the venv (not the wheel).
CONSTRAINTS="scikit-build-core==1.1.2
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
certifi==2026.10.19.post1
charset-normalizer==3.5.3
click==8.5.1
diskcache==5.6.3
fastapi==0.165.0
h11==0.16.0
idna==3.21
Jinja2==3.1.6
MarkupSafe==3.0.4
numpy==2.4.6
opentelemetry-api==1.45.3
pydantic==2.14.4
pydantic-settings==2.16.3
pydantic_core==2.50.5
python-dotenv==1.2.4
PyYAML==6.0.4
requests==2.34.2
sse-starlette==3.7.1
starlette==1.10.0
starlette-context==0.3.6
tqdm==4.70.1
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
uvicorn==0.55.0"

# Only what the server needs: the CPU backend, portable (no -march=native, so the cached
# wheel also runs on another x86-64-v3 machine), no OpenMP/BLAS/llamafile/repack kernels,
# no multimodal (mtmd) library, no tests, examples, tools or HTTP clients.
# (llama-cpp-python forces LLAMA_BUILD_COMMON on, so common/ and cpp-httplib still build.)
LLAMA_CMAKE_ARGS=(
    -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DGGML_BLAS=OFF -DGGML_LLAMAFILE=OFF
    -DGGML_CPU_REPACK=OFF -DGGML_CCACHE=OFF -DGGML_RPC=OFF
    -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
)

log()  { echo "[install-llama-server] $*" >&2; }
fail() { echo "[install-llama-server] ERROR: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=install-common.sh
source "$SCRIPT_DIR/install-common.sh"

[ "$(uname -m)" = "x86_64" ] || fail "only x86_64 is supported (found $(uname -m))"
[ -f "$MAKE_GGUF" ] || fail "$MAKE_GGUF is missing"

# --- system packages ---------------------------------------------------------
# Debian's python3 (with venv) runs the server; cmake (>= 3.21), ninja and g++ build
# llama.cpp; curl is what scripts/start-llama-server.sh probes the server with.
apt_install python3 python3-venv cmake ninja-build build-essential curl
PYTHON3=/usr/bin/python3
[ -x "$PYTHON3" ] || PYTHON3="$(command -v python3)"

mkdir -p "$LLAMA_ROOT"
printf '%s\n' "$CONSTRAINTS" > "$LLAMA_ROOT/constraints.txt"
VENV_STAMP="$LLAMA_CPP_PYTHON_VERSION $GGUF_VERSION $(sha256sum "$LLAMA_ROOT/constraints.txt" | cut -c1-16)"

# --- venv --------------------------------------------------------------------
# Not relocatable, so built in place; .complete says it holds every package.
if [ ! -f "$VENV/.complete" ] || [ "$(cat "$VENV/.complete")" != "$VENV_STAMP" ]; then
    rm -rf "$VENV"
    log "creating a venv in $VENV"
    "$PYTHON3" -m venv "$VENV" >&2 || fail "python3 -m venv failed (python3-venv missing?)"
fi
VPIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)

# --- wheel (built from the sdist once, then cached) --------------------------
mkdir -p "$WHEEL_DIR"
find_wheel() { compgen -G "$WHEEL_DIR/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION-*.whl" | head -n 1 || true; }
WHEEL="$(find_wheel)"
if [ -z "$WHEEL" ]; then
    log "building llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION from source (8-14 minutes on 2 cores)"
    build_log="$WHEEL_DIR/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-build.log"
    start=$SECONDS
    if ! PIP_CONSTRAINT="$LLAMA_ROOT/constraints.txt" CMAKE_ARGS="${LLAMA_CMAKE_ARGS[*]}" \
         CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
         "${VPIP[@]}" wheel -v --no-deps --no-binary llama-cpp-python --no-cache-dir \
             -w "$WHEEL_DIR" "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >"$build_log" 2>&1; then
        tail -n 40 "$build_log" >&2
        fail "building llama-cpp-python failed; full log: $build_log"
    fi
    WHEEL="$(find_wheel)"
    [ -n "$WHEEL" ] || fail "no llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION wheel in $WHEEL_DIR after the build (log: $build_log)"
    log "built $(basename "$WHEEL") in $(( SECONDS - start ))s"
else
    log "wheel already cached: $WHEEL"
fi

# --- packages ----------------------------------------------------------------
if [ ! -f "$VENV/.complete" ]; then
    log "installing llama-cpp-python[server] and gguf==$GGUF_VERSION into the venv"
    "${VPIP[@]}" install -c "$LLAMA_ROOT/constraints.txt" "${WHEEL}[server]" "gguf==$GGUF_VERSION" >&2 \
        || fail "pip install into $VENV failed"
    "$VENV/bin/python" -c 'import llama_cpp, llama_cpp.server.app, gguf' \
        || fail "the venv cannot import llama_cpp.server or gguf"
    "${VPIP[@]}" freeze > "$LLAMA_ROOT/pip-freeze.txt" 2>/dev/null || true
    echo "$VENV_STAMP" > "$VENV/.complete"
else
    log "venv already complete: $VENV"
fi

# --- model -------------------------------------------------------------------
# Regenerated whenever make-tiny-gguf.py changes (it is seeded, so otherwise identical).
stamp="$(sha256sum "$MAKE_GGUF" | cut -d' ' -f1)"
if [ ! -s "$MODEL" ] || [ "$(cat "$MODEL.sha256" 2>/dev/null || true)" != "$stamp" ]; then
    log "writing the tiny random model $MODEL"
    mkdir -p "$(dirname "$MODEL")"
    rm -f "$MODEL.sha256"
    "$VENV/bin/python" "$MAKE_GGUF" "$MODEL.tmp" >&2 || fail "make-tiny-gguf.py failed"
    mv "$MODEL.tmp" "$MODEL"
    echo "$stamp" > "$MODEL.sha256"
else
    log "model up to date: $MODEL"
fi

log "llama.cpp server ready: $VENV/bin/python -m llama_cpp.server --model $MODEL"
echo "$VENV/bin/python"
