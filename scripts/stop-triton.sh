#!/usr/bin/env bash
# Stops a tritonserver started by scripts/start-triton.sh.
#
# Usage: scripts/stop-triton.sh PID [GRACE_SECONDS]
#
# Sends SIGTERM (graceful shutdown; Triton also stops its python backend stub
# processes), waits up to GRACE_SECONDS (default 30), then SIGKILLs the
# server's process group (start-triton.sh runs the server under setsid, so
# the group contains exactly the server and its stubs). Exits 0 if the
# process is gone afterwards, including when it was not running at all.
set -euo pipefail

fail() { echo "[stop-triton] ERROR: $*" >&2; exit 1; }

[ "$#" -ge 1 ] || { echo "usage: $0 PID [GRACE_SECONDS]" >&2; exit 2; }
PID="$1"
GRACE="${2:-30}"
if ! [[ "$PID" =~ ^[0-9]+$ ]] || [ "$PID" -le 1 ]; then
    fail "invalid pid '$PID'"
fi
[[ "$GRACE" =~ ^[0-9]+$ ]] || fail "invalid grace period '$GRACE'"

if ! kill -0 "$PID" 2>/dev/null; then
    echo "[stop-triton] pid $PID is not running" >&2
    exit 0
fi
comm="$(cat "/proc/$PID/comm" 2>/dev/null || true)"
[ "$comm" = "tritonserver" ] || fail "pid $PID is '$comm', not tritonserver; refusing to signal it"

# Only use the process group if the server leads it (i.e. it was started via setsid).
pgid="$(ps -o pgid= -p "$PID" 2>/dev/null | tr -d ' ' || true)"

kill -TERM "$PID" 2>/dev/null || true
deadline=$(( SECONDS + GRACE ))
while kill -0 "$PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    # A zombie (exited but not yet reaped by its parent) counts as stopped.
    state="$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null || true)"
    [ "$state" = "Z" ] && break
    sleep 0.2
done

if kill -0 "$PID" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" != "Z" ]; then
    echo "[stop-triton] pid $PID still running after ${GRACE}s; sending SIGKILL" >&2
    if [ "$pgid" = "$PID" ]; then
        kill -KILL -- "-$PID" 2>/dev/null || true
    else
        kill -KILL "$PID" 2>/dev/null || true
    fi
    sleep 0.5
fi
# Leftover stubs in the server's own group (only if it led the group).
if [ "$pgid" = "$PID" ]; then
    kill -KILL -- "-$PID" 2>/dev/null || true
fi
echo "[stop-triton] stopped tritonserver pid $PID" >&2
