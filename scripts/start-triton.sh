#!/usr/bin/env bash
# Starts the cached tritonserver (see scripts/install-triton.sh) in the
# background, bound to 127.0.0.1 only, and waits until it reports ready.
#
# Usage:
#   scripts/start-triton.sh MODEL_REPO HTTP_PORT GRPC_PORT METRICS_PORT [LOGFILE [EXTRA_TRITON_ARGS...]]
#
#   LOGFILE defaults to $PERF_ANALYZER_CACHE/logs/triton-HTTP_PORT.log (pass ""
#   to keep the default while giving extra args). Extra args go to tritonserver
#   verbatim, e.g. --log-verbose=1, or --cache-config local,size=N (the cache
#   directory is set).
#
# Env:
#   PERF_ANALYZER_CACHE    cache root (default: ~/.cache/swift-perf-analyzer)
#   TRITON_START_TIMEOUT   seconds to wait for readiness (default: 120)
#   RECORD_DIR             passed through to the server; the models in
#                          Tests/TritonModels then append every request they
#                          receive to $RECORD_DIR/<model>.jsonl
#
# On success prints the server PID (only that) on stdout and exits 0; stop it
# with scripts/stop-triton.sh PID. On failure prints the tail of the log,
# kills the server if it is still running and exits non-zero.
set -euo pipefail

fail() { echo "[start-triton] ERROR: $*" >&2; exit 1; }

if [ "$#" -lt 4 ]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

MODEL_REPO="$1"; HTTP_PORT="$2"; GRPC_PORT="$3"; METRICS_PORT="$4"
LOGFILE="${5:-}"
shift 4
[ "$#" -gt 0 ] && shift
EXTRA_ARGS=("$@")

CACHE_DIR="${PERF_ANALYZER_CACHE:-$HOME/.cache/swift-perf-analyzer}"
SERVER_DIR="$CACHE_DIR/triton-0.5.14/pytriton/tritonserver"
TRITONSERVER="$SERVER_DIR/bin/tritonserver"
BACKENDS="$SERVER_DIR/backends"
TIMEOUT="${TRITON_START_TIMEOUT:-120}"

[ -x "$TRITONSERVER" ] || fail "tritonserver not found at $TRITONSERVER; run scripts/install-triton.sh first"
command -v curl >/dev/null || fail "curl is required"
[ -d "$MODEL_REPO" ] || fail "model repository '$MODEL_REPO' is not a directory"
MODEL_REPO="$(cd "$MODEL_REPO" && pwd)"
for p in "$HTTP_PORT" "$GRPC_PORT" "$METRICS_PORT"; do
    if ! [[ "$p" =~ ^[0-9]+$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then
        fail "invalid port '$p'"
    fi
done
if [ "$HTTP_PORT" = "$GRPC_PORT" ] || [ "$HTTP_PORT" = "$METRICS_PORT" ] || [ "$GRPC_PORT" = "$METRICS_PORT" ]; then
    fail "HTTP, GRPC and METRICS ports must differ"
fi

# Refuse to start if something already listens on one of the ports; otherwise
# the readiness probe below could be answered by a different server.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$HTTP_PORT" "$GRPC_PORT" "$METRICS_PORT"; do
    port_busy "$p" && fail "port $p on 127.0.0.1 is already in use"
done

if [ -z "$LOGFILE" ]; then
    mkdir -p "$CACHE_DIR/logs"
    LOGFILE="$CACHE_DIR/logs/triton-$HTTP_PORT.log"
fi
mkdir -p "$(dirname "$LOGFILE")"
: > "$LOGFILE"
if [ -n "${RECORD_DIR:-}" ]; then
    mkdir -p "$RECORD_DIR"
    RECORD_DIR="$(cd "$RECORD_DIR" && pwd)"
    export RECORD_DIR
fi

# setsid: the server gets its own session, so it survives this script and
# signals sent to the caller's terminal/process group do not reach it.
setsid "$TRITONSERVER" \
    --model-repository="$MODEL_REPO" \
    --backend-directory="$BACKENDS" \
    --cache-directory="$SERVER_DIR/caches" \
    --http-address=127.0.0.1 --http-port="$HTTP_PORT" \
    --grpc-address=127.0.0.1 --grpc-port="$GRPC_PORT" \
    --metrics-address=127.0.0.1 --metrics-port="$METRICS_PORT" \
    --exit-timeout-secs=10 \
    "${EXTRA_ARGS[@]}" \
    </dev/null >"$LOGFILE" 2>&1 &
PID=$!

show_log() {
    # Triton prints big status tables at the end, so the actual load error
    # (an "E<date>" line) is often far above the tail: show those first.
    if grep -qE '^E[0-9]{4} ' "$LOGFILE"; then
        echo "[start-triton] error lines in $LOGFILE:" >&2
        grep -E '^E[0-9]{4} ' "$LOGFILE" | grep -v 'CudaDriverHelper has not been initialized' | tail -n 20 >&2 || true
    fi
    echo "[start-triton] last lines of $LOGFILE:" >&2
    tail -n 25 "$LOGFILE" >&2 || true
}

deadline=$(( SECONDS + TIMEOUT ))
while :; do
    if ! kill -0 "$PID" 2>/dev/null; then
        wait "$PID" 2>/dev/null && rc=0 || rc=$?
        show_log
        fail "tritonserver exited (status $rc) before becoming ready"
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:$HTTP_PORT/v2/health/ready" || true)"
    [ "$code" = "200" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
        show_log
        # The server leads its own process group (setsid); take its python
        # backend stubs down with it.
        kill -TERM "$PID" 2>/dev/null || true
        sleep 2
        kill -KILL -- "-$PID" 2>/dev/null || kill -KILL "$PID" 2>/dev/null || true
        fail "tritonserver (pid $PID) not ready after ${TIMEOUT}s (last HTTP status: ${code:-none}); killed it"
    fi
    sleep 0.5
done

echo "[start-triton] tritonserver ready: pid $PID, http 127.0.0.1:$HTTP_PORT, grpc 127.0.0.1:$GRPC_PORT, metrics 127.0.0.1:$METRICS_PORT, log $LOGFILE" >&2
echo "$PID"
