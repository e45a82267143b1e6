#!/usr/bin/env bash
# Tail latency with the server on the same machine: ours against wrk (Debian's wrk 4, the
# physical-limit column: a C client with nothing between the socket and its timer) and,
# for reference, ours with --max-threads 2 (one load thread per core, the default before it
# left a core to a server on this machine), all against nginx answering identity_fp32's infer
# URL with a canned body (bench/nginx-kserve.conf.in, one worker), at each concurrency,
# alternating the clients round by round. Nothing is pinned: client and server share the cores,
# which is the case this benchmark is about.
#
# Per client and concurrency, the medians over the rounds of: p99 and p50 latency, and
# throughput; and each client's throughput paired with wrk -t1's of the same round (the median
# of the per-round ratios: ours runs right before or right after wrk -t1, in turn, so the
# machine's drift between rounds cancels). The throughput verdict takes the paired ratio.
# Ours measures three windows of --window-ms (-s 100: the level ends after three windows, so
# every round measures the same time); wrk runs for the same total time.
#
# Usage: bench/wrk-tail.sh [--rounds N] [--levels "8 16 ..."] [--window-ms MS] [--no-build]
#                          [--ours PATH] [--baseline PATH] [--baseline-args "..."] [--results FILE]
#   --baseline PATH   another perf-analyzer build to run beside ours (e.g. before a change)
#   --baseline-args   extra flags for the baseline (e.g. "--max-threads 1")
#   --no-nio-floor    leave out the "nio floor" client (bench/nio-floor: one SwiftNIO loop doing
#                     nothing but send and count; it shows how much of the gap to wrk is NIO's)
# wrk runs with -t1 (leaving nginx a core) and -t2; the ratios of medians are against the better
# of them, the paired ratio against wrk -t1.
# Targets (issue 18): at every level, ours' p99 ≤ 1.3× wrk's and ours' throughput ≥ 0.95× wrk's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/release-flags.sh
source scripts/release-flags.sh
log()  { echo "[wrk-tail] $*" >&2; }
fail() { echo "[wrk-tail] ERROR: $*" >&2; exit 1; }

ROUNDS=3
LEVELS="8 16 32 64 128 256"
WINDOW_MS=2000
BUILD=1
OURS=""
BASELINE=""
BASELINE_ARGS=""
NIO_FLOOR=1
RESULTS="bench/results/wrk-tail.md"
ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --levels) LEVELS="$2"; shift 2 ;;
        --window-ms) WINDOW_MS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --ours) OURS="$2"; shift 2 ;;
        --baseline) BASELINE="$2"; shift 2 ;;
        --baseline-args) BASELINE_ARGS="$2"; shift 2 ;;
        --no-nio-floor) NIO_FLOOR=0; shift ;;
        --results) RESULTS="$2"; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) fail "unknown option $1 (see --help)" ;;
    esac
done

command -v wrk >/dev/null || { log "installing wrk with apt-get"; apt-get install -y -q wrk >&2 || { apt-get update -q >&2 && apt-get install -y -q wrk >&2; } || fail "could not install wrk"; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { apt-get install -y -q nginx-light >&2 || fail "could not install nginx-light"; }
PATH="$PATH:/usr/sbin"
if [ -z "$OURS" ]; then
    [ "$BUILD" = 1 ] && { swift build "${RELEASE_FLAGS[@]}" --product perf-analyzer >&2 || fail "swift build failed"; }
    OURS="$(swift build "${RELEASE_FLAGS[@]}" --show-bin-path)/perf-analyzer"
fi
[ -x "$OURS" ] || fail "$OURS not found"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || fail "$BASELINE not found"
FLOOR_BIN=""
if [ "$NIO_FLOOR" = 1 ]; then
    swift build "${RELEASE_FLAGS[@]}" --package-path bench/nio-floor >&2 || fail "swift build of bench/nio-floor failed (or use --no-nio-floor)"
    FLOOR_BIN="$(swift build "${RELEASE_FLAGS[@]}" --package-path bench/nio-floor --show-bin-path)/nio-floor"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wrk-tail.XXXXXX")"
NGINX_PID=""
cleanup() { [ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$WORK/nginx"
sed -e "s#@PORT@#$port#g" -e "s#@DIR@#$WORK/nginx#g" bench/nginx-kserve.conf.in >"$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' </dev/null >"$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/health/ready" || true)" = 200 ] && break
    sleep 0.05
done
URL="127.0.0.1:$port"

# wrk sends the body ours sends: identity_fp32's one [1,16] FP32 input as JSON (perf-analyzer's
# tensors go as binary data by default; nginx ignores the body either way).
BODY='{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"FP32","data":[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]}]}'
cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
printf '%s' "$BODY" >"$WORK/body.json"
echo '{"data":[{"INPUT0":[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]}]}' >"$WORK/input.json"
SECONDS_TOTAL=$(( (3 * WINDOW_MS + 999) / 1000 ))
RAW="$WORK/raw.jsonl"

run_ours() { # NAME BIN C EXTRA...
    local name="$1" bin="$2" c="$3"; shift 3
    local out
    out="$("$bin" -m identity_fp32 -u "$URL" --concurrency-range "$c" -p "$WINDOW_MS" -s 100 \
        --input-data "$WORK/input.json" "$@" 2>&1)" || { log "$name c$c failed: $(echo "$out" | tail -3)"; return 0; }
    python3 - "$name" "$c" "$RAW" <<PY "$out"
import json, os, re, sys
name, c, raw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = sys.argv[4]
tp = re.search(r"Throughput: ([0-9.]+) infer/sec", text)
p50 = re.search(r"p50 latency: (\d+) usec", text)
p99 = re.search(r"p99 latency: (\d+) usec", text)
health = re.search(r"Client health: (\w+)", text)
rec = {"client": name, "c": c, "round": int(os.environ.get("ROUND", "0")), "throughput": float(tp.group(1)) if tp else None,
       "p50_us": int(p50.group(1)) if p50 else None, "p99_us": int(p99.group(1)) if p99 else None,
       "health": health.group(1) if health else None}
open(raw, "a").write(json.dumps(rec) + "\n")
print("[wrk-tail] %s c%d: %s" % (name, c, rec), file=sys.stderr)
PY
}

run_wrk() { # C THREADS
    local c="$1" threads="$2" out
    [ "$c" -lt "$threads" ] && threads="$c"
    out="$(wrk -t"$threads" -c"$c" -d"${SECONDS_TOTAL}s" --latency -s "$WORK/post.lua" "http://$URL/v2/models/identity_fp32/infer" 2>&1)" \
        || { log "wrk c$c failed: $out"; return 0; }
    python3 - "$c" "$RAW" "wrk -t$2" <<PY "$out"
import json, os, re, sys
c, raw, name, text = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def us(v, unit):
    return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
p = {m.group(1): us(m.group(2), m.group(3)) for m in re.finditer(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)", text, re.M)}
tp = re.search(r"Requests/sec:\s+([0-9.]+)", text)
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
rec = {"client": name, "c": c, "round": int(os.environ.get("ROUND", "0")), "throughput": float(tp.group(1)) if tp else None,
       "p50_us": p.get("50"), "p99_us": p.get("99"), "non_2xx": int(errors.group(1)) if errors else 0}
open(raw, "a").write(json.dumps(rec) + "\n")
print("[wrk-tail] %s c%d: %s" % (name, c, rec), file=sys.stderr)
PY
}

run_floor() { # C
    local c="$1" out
    out="$("$FLOOR_BIN" 127.0.0.1 "$port" /v2/models/identity_fp32/infer "$c" "$SECONDS_TOTAL" "$WORK/body.json" 2>&1)" \
        || { log "nio floor c$c failed: $out"; return 0; }
    python3 - "$c" "$RAW" <<PY "$out"
import json, os, re, sys
c, raw, text = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tp = re.search(r"Requests/sec: ([0-9.]+)", text)
rec = {"client": "nio floor", "c": c, "round": int(os.environ.get("ROUND", "0")), "throughput": float(tp.group(1)) if tp else None, "p50_us": None, "p99_us": None}
open(raw, "a").write(json.dumps(rec) + "\n")
print("[wrk-tail] nio floor c%d: %s" % (c, rec), file=sys.stderr)
PY
}

log "nginx on $URL; ours: $OURS; rounds $ROUNDS; levels $LEVELS; 3 × $WINDOW_MS ms per run"
for c in $LEVELS; do
    for r in $(seq 1 "$ROUNDS"); do
        export ROUND="$r"
        # wrk -t1 and ours back to back, in turn first (A B, then B A): the pair sees the same
        # machine, and a speed that drifts through a round favours neither.
        if [ $((r % 2)) = 1 ]; then
            run_wrk "$c" 1
            run_ours ours "$OURS" "$c"
        else
            run_ours ours "$OURS" "$c"
            run_wrk "$c" 1
        fi
        run_wrk "$c" 2
        [ -z "$FLOOR_BIN" ] || run_floor "$c"
        # shellcheck disable=SC2086
        [ -z "$BASELINE" ] || run_ours "baseline${BASELINE_ARGS:+ $BASELINE_ARGS}" "$BASELINE" "$c" $BASELINE_ARGS
        run_ours "ours --max-threads 2" "$OURS" "$c" --max-threads 2
    done
done

mkdir -p "$(dirname "$RESULTS")"
python3 - "$RAW" "$RESULTS" "bench/wrk-tail.sh ${ARGS[*]:-}" "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, statistics, sys, datetime
raw, out, command, machine = sys.argv[1:5]
recs = [json.loads(l) for l in open(raw) if l.strip()]
clients = []
for r in recs:
    if r["client"] not in clients:
        clients.append(r["client"])
levels = sorted({r["c"] for r in recs})
def med(client, c, key):
    vals = [r[key] for r in recs if r["client"] == client and r["c"] == c and r.get(key) is not None]
    return statistics.median(vals) if vals else None
def paired(client, c):
    """The median over the rounds of the client's throughput over wrk -t1's in the same round."""
    wrk = {r["round"]: r["throughput"] for r in recs if r["client"] == "wrk -t1" and r["c"] == c and r.get("throughput")}
    vals = [r["throughput"] / wrk[r["round"]] for r in recs
            if r["client"] == client and r["c"] == c and r.get("throughput") and r.get("round") in wrk]
    return statistics.median(vals) if vals else None
L = ["# Tail latency against nginx on the same machine: ours and wrk", "",
     "- date: %s" % datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
     "- command: `%s`" % command, "- machine: %s" % machine, "",
     "wrk runs with one thread (leaving nginx a core) and with two; the ratios of medians are against the better wrk of each level: its higher throughput and its lower p99.",
     "The paired ratio is the median over the rounds of a client's throughput over wrk -t1's in the same round (ours ran right before or after it), so that the machine's speed, which drifts between rounds, cancels; the verdict takes it.", "",
     "| concurrency | client | throughput (req/s) | p50 (µs) | p99 (µs) | p99 / wrk's | throughput / wrk's | throughput / wrk -t1's, paired | met (p99 ≤ 1.3×, throughput ≥ 0.95×)? |",
     "|---|---|---|---|---|---|---|---|---|"]
for c in levels:
    wrks = [cl for cl in clients if cl.startswith("wrk")]
    wt = max([v for v in (med(w, c, "throughput") for w in wrks) if v] or [None]) if wrks else None
    wp = min([v for v in (med(w, c, "p99_us") for w in wrks) if v] or [None]) if wrks else None
    for cl in clients:
        t, p50, p99 = med(cl, c, "throughput"), med(cl, c, "p50_us"), med(cl, c, "p99_us")
        rp = p99 / wp if p99 and wp else None
        rt = t / wt if t and wt else None
        pt = None if cl.startswith("wrk") else paired(cl, c)
        met = "—" if cl.startswith("wrk") or rp is None or pt is None else ("yes" if rp <= 1.3 and pt >= 0.95 else "no")
        L.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c, cl, "%.0f" % t if t else "—", "%.0f" % p50 if p50 else "—", "%.0f" % p99 if p99 else "—",
            "%.2f×" % rp if rp else "—", "%.2f×" % rt if rt else "—", "%.2f×" % pt if pt else "—", met))
text = "\n".join(L) + "\n"
open(out, "w").write(text)
print(text)
PY
