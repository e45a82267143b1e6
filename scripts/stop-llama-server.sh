#!/usr/bin/env bash
# Stops a llama.cpp server started by scripts/start-llama-server.sh.
#
# Usage: scripts/stop-llama-server.sh PID [GRACE_SECONDS]
#
# Sends SIGTERM (uvicorn shuts down gracefully), waits up to GRACE_SECONDS
# (default 10), then SIGKILLs the server's process group (start-llama-server.sh
# runs it under setsid). Exits 0 if the process is gone afterwards, including
# when it was not running at all. Refuses to signal a process that is not
# `python -m llama_cpp.server`.
set -euo pipefail

fail() { echo "[stop-llama-server] ERROR: $*" >&2; exit 1; }

[ "$#" -ge 1 ] || { echo "usage: $0 PID [GRACE_SECONDS]" >&2; exit 2; }
PID="$1"
GRACE="${2:-10}"
if ! [[ "$PID" =~ ^[0-9]+$ ]] || [ "$PID" -le 1 ]; then
    fail "invalid pid '$PID'"
fi
[[ "$GRACE" =~ ^[0-9]+$ ]] || fail "invalid grace period '$GRACE'"

if ! kill -0 "$PID" 2>/dev/null; then
    echo "[stop-llama-server] pid $PID is not running" >&2
    exit 0
fi
cmdline="$(tr '\0' ' ' < "/proc/$PID/cmdline" 2>/dev/null || true)"
case "$cmdline" in
    *" -m llama_cpp.server "*) ;;
    "") echo "[stop-llama-server] pid $PID already exited" >&2; exit 0 ;;
    *) fail "pid $PID is '$cmdline', not llama_cpp.server; refusing to signal it" ;;
esac

# Only use the process group if the server leads it (i.e. it was started via setsid).
pgid="$(ps -o pgid= -p "$PID" 2>/dev/null | tr -d ' ' || true)"

is_zombie() { [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" = "Z" ]; }

kill -TERM "$PID" 2>/dev/null || true
deadline=$(( SECONDS + GRACE ))
while kill -0 "$PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    # A zombie (exited but not yet reaped by its parent) counts as stopped.
    is_zombie && break
    sleep 0.2
done

if kill -0 "$PID" 2>/dev/null && ! is_zombie; then
    echo "[stop-llama-server] pid $PID still running after ${GRACE}s; sending SIGKILL" >&2
    if [ "$pgid" = "$PID" ]; then
        kill -KILL -- "-$PID" 2>/dev/null || true
    else
        kill -KILL "$PID" 2>/dev/null || true
    fi
    sleep 0.5
fi
echo "[stop-llama-server] stopped llama_cpp.server pid $PID" >&2
