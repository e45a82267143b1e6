#!/usr/bin/env bash
# Starts the cached llama.cpp OpenAI-compatible server (llama-cpp-python, see
# scripts/install-llama-server.sh) with the tiny random model, in the background,
# bound to 127.0.0.1 only, and waits until GET /v1/models answers.
#
# Usage:
#   scripts/start-llama-server.sh PORT [LOGFILE [EXTRA_SERVER_ARGS...]]
#
#   LOGFILE defaults to $PERF_ANALYZER_CACHE/logs/llama-server-PORT.log (pass ""
#   to keep the default while giving extra args). Extra args go to
#   `python -m llama_cpp.server` verbatim and override the defaults below, e.g.
#   --ssl_keyfile KEY --ssl_certfile CERT (HTTPS), --api_key KEY, --n_threads 2.
#
# The server: model id "tiny-llama" (what /v1/models reports), 4096 tokens of
# context, 1 thread, one request at a time (--interrupt_requests False: a request that
# arrives while another one runs waits for it instead of cutting its stream short).
#
# Env:
#   PERF_ANALYZER_CACHE      cache root (default: ${XDG_CACHE_HOME:-~/.cache}/swift-perf-analyzer)
#   LLAMA_START_TIMEOUT      seconds to wait for the server (default: 60)
#
# On success prints the server PID (only that) on stdout and exits 0; stop it
# with scripts/stop-llama-server.sh PID. On failure prints the tail of the log,
# kills the server if it is still running and exits non-zero.
set -euo pipefail

fail() { echo "[start-llama-server] ERROR: $*" >&2; exit 1; }

if [ "$#" -lt 1 ]; then
    sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

PORT="$1"
LOGFILE="${2:-}"
shift
[ "$#" -gt 0 ] && shift
EXTRA_ARGS=("$@")

LLAMA_CPP_PYTHON_VERSION="0.3.36"   # keep in sync with scripts/install-llama-server.sh
CACHE_DIR="${PERF_ANALYZER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swift-perf-analyzer}"
LLAMA_ROOT="$CACHE_DIR/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION"
PYTHON="$LLAMA_ROOT/venv/bin/python"
MODEL="$LLAMA_ROOT/models/tiny-llama.gguf"
MODEL_ALIAS="tiny-llama"
TIMEOUT="${LLAMA_START_TIMEOUT:-60}"

[ -f "$LLAMA_ROOT/venv/.complete" ] && [ -x "$PYTHON" ] \
    || fail "llama-cpp-python not installed in $LLAMA_ROOT; run scripts/install-llama-server.sh first"
[ -s "$MODEL" ] || fail "model $MODEL missing; run scripts/install-llama-server.sh"
command -v curl >/dev/null || fail "curl is required"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    fail "invalid port '$PORT'"
fi

# Refuse to start if something already listens on the port; otherwise the
# probe below could be answered by a different server.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy "$PORT" && fail "port $PORT on 127.0.0.1 is already in use"

if [ -z "$LOGFILE" ]; then
    mkdir -p "$CACHE_DIR/logs"
    LOGFILE="$CACHE_DIR/logs/llama-server-$PORT.log"
fi
mkdir -p "$(dirname "$LOGFILE")"
: > "$LOGFILE"

# HTTPS when the extra args name a certificate (the probe then uses https, unverified).
scheme=http
for arg in "${EXTRA_ARGS[@]}"; do
    [ "$arg" = "--ssl_certfile" ] && scheme=https
done

# setsid: the server gets its own session, so it survives this script and
# signals sent to the caller's terminal/process group do not reach it.
setsid "$PYTHON" -m llama_cpp.server \
    --model "$MODEL" --model_alias "$MODEL_ALIAS" \
    --host 127.0.0.1 --port "$PORT" \
    --n_ctx 4096 --n_threads 1 --n_threads_batch 1 \
    --interrupt_requests False \
    "${EXTRA_ARGS[@]}" \
    </dev/null >"$LOGFILE" 2>&1 &
PID=$!

show_log() {
    echo "[start-llama-server] last lines of $LOGFILE:" >&2
    tail -n 25 "$LOGFILE" >&2 || true
}

deadline=$(( SECONDS + TIMEOUT ))
while :; do
    if ! kill -0 "$PID" 2>/dev/null; then
        wait "$PID" 2>/dev/null && rc=0 || rc=$?
        show_log
        fail "llama_cpp.server exited (status $rc) before answering"
    fi
    code="$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 \
        "$scheme://127.0.0.1:$PORT/v1/models" || true)"
    [ "$code" = "200" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
        show_log
        kill -TERM "$PID" 2>/dev/null || true
        sleep 2
        kill -KILL -- "-$PID" 2>/dev/null || kill -KILL "$PID" 2>/dev/null || true
        fail "llama_cpp.server (pid $PID) not answering after ${TIMEOUT}s (last HTTP status: ${code:-none}); killed it"
    fi
    sleep 0.3
done

echo "[start-llama-server] llama_cpp.server ready: pid $PID, $scheme://127.0.0.1:$PORT, model $MODEL_ALIAS, log $LOGFILE" >&2
echo "$PID"
