#!/usr/bin/env bash
# The whole test suite: installs and starts a real Triton (CPU), a real OpenAI-compatible
# LLM server (llama.cpp with a tiny random model) and the reference perf_analyzer, builds
# everything, and runs every test target against them.
# This is the README's test command and what CI runs. Triton tests never skip:
# if Triton cannot be installed or started, this script fails with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's header says how long the script has run (bash's SECONDS), so a log shows where
# the time went.
phase() { echo "== $* [$((SECONDS / 60))m$((SECONDS % 60))s]" >&2; }
phase "installing Triton, the reference perf_analyzer, the CUDA runtime library and llama.cpp's server (cached after the first run)"
scripts/install-triton.sh >/dev/null
scripts/install-perf-analyzer.sh >/dev/null
# The CUDA runtime library alone (no GPU or driver needed) for the CUDA loading tests.
CUDA_RUNTIME_DIR="$(scripts/install-cuda-runtime.sh | tail -n 1)"
export CUDA_RUNTIME_DIR
# shellcheck source=triton-env.sh
source scripts/triton-env.sh
# After triton-env.sh, which exports PERF_ANALYZER_CACHE: the LLM server's scripts read it too.
# llama-cpp-python is built from source: 8-14 minutes the first time on 2 cores.
scripts/install-llama-server.sh >/dev/null
# Open MPI (mpirun, libmpi) for the --enable-mpi tests.
MPIRUN="$(scripts/install-mpi.sh | tail -n 1)"
export MPIRUN
# The progress-line test reads a real terminal through tmux; the library consumer test uses curl;
# the -u path-prefix test puts nginx in front of kserve-sim; the HTML report test opens its pages in chromium.
log() { echo "[test] $*" >&2; }
fail() { echo "[test] $*" >&2; exit 1; }
# shellcheck source=install-common.sh
source scripts/install-common.sh
apt_install tmux curl nginx-light chromium >/dev/null

phase building
swift build --build-tests

# PerfAnalyzerKit as a versioned dependency of another package (its own build of everything).
phase "the library as a versioned dependency"
scripts/test-library-consumer.sh

# The release packages (static release build in .build-static, tarball and wheel in
# .build-package), installed and used where the Swift toolchain is hidden.
phase packaging
packaged=$(scripts/package.sh)
mapfile -t packages < <(tail -n 2 <<<"$packaged")
scripts/test-package.sh "${packages[@]}"

# Four distinct free loopback ports (Triton's three and the LLM server's), held together so
# they cannot collide.
read -r http grpc metrics llama < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
PY
)
work=$(mktemp -d)
mkdir -p "$work/record" "$work/trace"
phase "starting Triton on 127.0.0.1:$http (log: $work/triton.log)"
# A response cache for the model that enables it, and a trace file for the trace-setting tests
# (tracing itself stays off until a test turns it on).
triton_pid=$(RECORD_DIR="$work/record" scripts/start-triton.sh Tests/TritonModels "$http" "$grpc" "$metrics" "$work/triton.log" \
    --cache-config local,size=1048576 --trace-config "triton,file=$work/trace/trace.json")
llama_pid=
cleanup() {
    scripts/stop-triton.sh "$triton_pid" >/dev/null 2>&1 || true
    [ -z "$llama_pid" ] || scripts/stop-llama-server.sh "$llama_pid" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
phase "starting the LLM server (llama.cpp, OpenAI API) on 127.0.0.1:$llama (log: $work/llama.log)"
llama_pid=$(scripts/start-llama-server.sh "$llama" "$work/llama.log")
# The model id as the server reports it (what requests name in "model").
llama_model=$(curl -sf "http://127.0.0.1:$llama/v1/models" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])') \
    || fail "could not read the model id from http://127.0.0.1:$llama/v1/models"

export TRITON_HTTP_URL="127.0.0.1:$http"
export TRITON_GRPC_URL="127.0.0.1:$grpc"
export TRITON_METRICS_URL="127.0.0.1:$metrics"
export TRITON_RECORD_DIR="$work/record"
export TRITON_TRACE_FILE="$work/trace/trace.json"
export PERF_ANALYZER_REFERENCE="$PERF_ANALYZER"
# The C API tests start Triton inside perf-analyzer from this directory (set by triton-env.sh).
export TRITON_SERVER_DIRECTORY
# The OpenAI-compatible server (--service-kind openai): host:port and the model's id.
export LLAMA_SERVER_URL="127.0.0.1:$llama"
export LLAMA_SERVER_MODEL="$llama_model"

phase testing
swift test --skip-build
phase done
