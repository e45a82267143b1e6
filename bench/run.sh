#!/usr/bin/env bash
# Benchmarks swift-perf-analyzer (ours) against the reference C++ perf_analyzer
# 2.50 (theirs) with identical flags against the same server, alternating the
# two tools (ours, theirs, ours, theirs, ...), and prints a markdown table of
# the medians and the ratios ours/theirs. See bench/README.md.
#
# Usage: bench/run.sh [options] [scenario|group ...]
#
# Scenarios:  nginx-c1 nginx-c8 sim-c1 sim-c8 triton-c1 triton-c4
#             triton-grpc-c1 triton-grpc-c4 memory-60s
#             sim-stream-c1 sim-stream-c4 triton-stream-c1 triton-stream-c4
#             (-i grpc --streaming)
#             sim-rate-5000 sim-rate-poisson sim-rate-2000 triton-rate-2000
#             (request-rate mode)
#             sim-image-c1 sim-image-shm-c1 triton-image-c1 triton-image-shm-c1
#             triton-grpc-image-c1 triton-grpc-image-shm-c1 (a large FP32
#             [3,224,224] input, over the network and through system shared memory)
# Groups:     fast-c1 (= nginx-c1 sim-c1)   fast-c8 (= nginx-c8 sim-c8)
#             fast (all four fast ones)     nginx, sim, triton (HTTP and gRPC;
#             concurrency scenarios only)   rate (the four request-rate ones)
#             stream (the four --streaming ones)
#             shm (the six large-input ones)
#             all (default: every scenario)
#
# Options (each also settable through the environment variable in brackets):
#   --pairs N            ours/theirs pairs per scenario [BENCH_PAIRS, 3]
#   --fast-requests N    --request-count on nginx/kserve-sim [BENCH_FAST_REQUESTS, 50000]
#   --triton-requests N  --request-count on Triton [BENCH_TRITON_REQUESTS, 5000]
#   --rate-window-ms MS  -p (measurement window) of sim-rate-5000 [BENCH_RATE_WINDOW_MS, 2000]
#   --spin-us US         our --spin-before-send in sim-rate-5000 and sim-rate-poisson
#                        (perf_analyzer has no such option) [BENCH_SPIN_US, 100]
#   --rate-stability PCT also pass -s PCT (stability percentage) in sim-rate-5000
#                        [BENCH_RATE_STABILITY, unset: the tools' default 10]
#   --poisson-requests N --request-count of sim-rate-poisson (2000/s)
#                        [BENCH_POISSON_REQUESTS, 40000]
#   --rate-cpu-requests N --request-count of sim-rate-2000 and triton-rate-2000
#                        [BENCH_RATE_CPU_REQUESTS, 20000]
#   --image-requests N   --request-count of the large-input scenarios
#                        [BENCH_IMAGE_REQUESTS, 2000]
#   --memory-seconds S   our run time in memory-60s: --request-count is set to
#                        S seconds of our measured c8 rate [BENCH_MEMORY_SECONDS, 60]
#   --memory-requests N  use this --request-count in memory-60s instead of
#                        calibrating [BENCH_MEMORY_REQUESTS]
#   --memory-pairs N     pairs for the memory run [BENCH_MEMORY_PAIRS, 1]
#   --mem-limit-mb M     watchdog: kill a client above M MiB RSS [BENCH_MEM_LIMIT_MB, 10240]
#   --memory-time-limit S  watchdog: kill a client of memory-60s after S seconds
#                        [BENCH_MEMORY_TIME_LIMIT, 6 x memory seconds]
#   --time-limit S       watchdog for every other run [BENCH_TIME_LIMIT, 600]
#   --pin MODE           CPU placement: none (scheduler decides), split (server
#                        on CPU 0, client on CPU 1) or same (both on CPU 0)
#                        [BENCH_PIN, none]
#   --results FILE       markdown report [BENCH_RESULTS, bench/results/latest.md]
#   --no-build           use the existing release binaries, do not run swift build
#                        [BENCH_BUILD=0]
#   --baseline PATH      run this perf-analyzer binary (another build of ours, e.g. of the
#                        commit before a change to the hot path) in perf_analyzer's place, so
#                        the table is after/before side by side [BENCH_BASELINE]
#   -h, --help
#
# Needs: swift, python3, curl, /usr/bin/time (Debian package `time`), nginx
# (installed with apt-get as nginx-light when missing), tcpdump for
# sim-rate-poisson (installed with apt-get when missing; needs root), and for the triton
# scenarios scripts/install-triton.sh's cache. Everything listens on free
# loopback ports; every server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
# shellcheck source=scripts/release-flags.sh
source scripts/release-flags.sh

PAIRS="${BENCH_PAIRS:-3}"
FAST_REQUESTS="${BENCH_FAST_REQUESTS:-50000}"
TRITON_REQUESTS="${BENCH_TRITON_REQUESTS:-5000}"
RATE_WINDOW_MS="${BENCH_RATE_WINDOW_MS:-2000}"
RATE_STABILITY="${BENCH_RATE_STABILITY:-}"
POISSON_REQUESTS="${BENCH_POISSON_REQUESTS:-40000}"
RATE_CPU_REQUESTS="${BENCH_RATE_CPU_REQUESTS:-20000}"
IMAGE_REQUESTS="${BENCH_IMAGE_REQUESTS:-2000}"
SPIN_US="${BENCH_SPIN_US:-100}"
MEMORY_SECONDS="${BENCH_MEMORY_SECONDS:-60}"
MEMORY_PAIRS="${BENCH_MEMORY_PAIRS:-1}"
MEMORY_REQUESTS="${BENCH_MEMORY_REQUESTS:-}"
MEMORY_TIME_LIMIT="${BENCH_MEMORY_TIME_LIMIT:-}"
TIME_LIMIT="${BENCH_TIME_LIMIT:-600}"
MEM_LIMIT_MB="${BENCH_MEM_LIMIT_MB:-10240}"
RESULTS="${BENCH_RESULTS:-$ROOT/bench/results/latest.md}"
BUILD="${BENCH_BUILD:-1}"
BASELINE="${BENCH_BASELINE:-}"
PIN="${BENCH_PIN:-none}"
ORIG_ARGS=("$@")

log()  { echo "[bench] $*" >&2; }
fail() { echo "[bench] ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || fail "$1 needs a positive integer (got '$2')"; }

ALL=(nginx-c1 nginx-c8 memory-60s sim-c1 sim-c8 sim-rate-5000 sim-rate-poisson sim-rate-2000
     sim-image-c1 sim-image-shm-c1 sim-stream-c1 sim-stream-c4
     triton-c1 triton-c4 triton-grpc-c1 triton-grpc-c4 triton-stream-c1 triton-stream-c4 triton-rate-2000
     triton-image-c1 triton-image-shm-c1 triton-grpc-image-c1 triton-grpc-image-shm-c1)
SHM=(sim-image-c1 sim-image-shm-c1 triton-image-c1 triton-image-shm-c1 triton-grpc-image-c1 triton-grpc-image-shm-c1)
RATE=(sim-rate-5000 sim-rate-poisson sim-rate-2000 triton-rate-2000)
REQUESTED=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --pairs) PAIRS="$2"; shift 2 ;;
        --baseline) BASELINE="$2"; shift 2 ;;
        --fast-requests) FAST_REQUESTS="$2"; shift 2 ;;
        --triton-requests) TRITON_REQUESTS="$2"; shift 2 ;;
        --rate-window-ms) RATE_WINDOW_MS="$2"; shift 2 ;;
        --rate-stability) RATE_STABILITY="$2"; shift 2 ;;
        --spin-us) SPIN_US="$2"; shift 2 ;;
        --poisson-requests) POISSON_REQUESTS="$2"; shift 2 ;;
        --rate-cpu-requests) RATE_CPU_REQUESTS="$2"; shift 2 ;;
        --image-requests) IMAGE_REQUESTS="$2"; shift 2 ;;
        --memory-seconds) MEMORY_SECONDS="$2"; shift 2 ;;
        --memory-pairs) MEMORY_PAIRS="$2"; shift 2 ;;
        --memory-requests) MEMORY_REQUESTS="$2"; shift 2 ;;
        --memory-time-limit) MEMORY_TIME_LIMIT="$2"; shift 2 ;;
        --time-limit) TIME_LIMIT="$2"; shift 2 ;;
        --mem-limit-mb) MEM_LIMIT_MB="$2"; shift 2 ;;
        --results) RESULTS="$2"; shift 2 ;;
        --pin) PIN="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        all) REQUESTED+=("${ALL[@]}"); shift ;;
        fast) REQUESTED+=(nginx-c1 nginx-c8 sim-c1 sim-c8); shift ;;
        fast-c1) REQUESTED+=(nginx-c1 sim-c1); shift ;;
        fast-c8) REQUESTED+=(nginx-c8 sim-c8); shift ;;
        nginx) REQUESTED+=(nginx-c1 nginx-c8); shift ;;
        sim) REQUESTED+=(sim-c1 sim-c8); shift ;;
        triton) REQUESTED+=(triton-c1 triton-c4 triton-grpc-c1 triton-grpc-c4); shift ;;
        rate) REQUESTED+=("${RATE[@]}"); shift ;;
        shm) REQUESTED+=("${SHM[@]}"); shift ;;
        stream) REQUESTED+=(sim-stream-c1 sim-stream-c4 triton-stream-c1 triton-stream-c4); shift ;;
        sim-stream-c1|sim-stream-c4|triton-stream-c1|triton-stream-c4) REQUESTED+=("$1"); shift ;;
        nginx-c1|nginx-c8|sim-c1|sim-c8|triton-c1|triton-c4|triton-grpc-c1|triton-grpc-c4|memory-60s) REQUESTED+=("$1"); shift ;;
        sim-rate-5000|sim-rate-poisson|sim-rate-2000|triton-rate-2000) REQUESTED+=("$1"); shift ;;
        sim-image-c1|sim-image-shm-c1|triton-image-c1|triton-image-shm-c1|triton-grpc-image-c1|triton-grpc-image-shm-c1)
            REQUESTED+=("$1"); shift ;;
        *) usage >&2; fail "unknown scenario or option '$1'" ;;
    esac
done
MEMORY_TIME_LIMIT="${MEMORY_TIME_LIMIT:-$(( 6 * MEMORY_SECONDS ))}"
for v in PAIRS FAST_REQUESTS TRITON_REQUESTS MEMORY_SECONDS MEMORY_PAIRS MEM_LIMIT_MB TIME_LIMIT MEMORY_TIME_LIMIT \
         RATE_WINDOW_MS POISSON_REQUESTS RATE_CPU_REQUESTS IMAGE_REQUESTS; do
    posint "$v" "${!v}"
done
[ -z "$MEMORY_REQUESTS" ] || posint MEMORY_REQUESTS "$MEMORY_REQUESTS"
[ -z "$RATE_STABILITY" ] || posint RATE_STABILITY "$RATE_STABILITY"
[[ "$SPIN_US" =~ ^[0-9]+$ ]] || fail "--spin-us must be a whole number of microseconds (got '$SPIN_US')"
SERVER_PIN=(); CLIENT_PIN=()
case "$PIN" in
    none) ;;
    split) SERVER_PIN=(taskset -c 0); CLIENT_PIN=(taskset -c 1) ;;
    same) SERVER_PIN=(taskset -c 0); CLIENT_PIN=(taskset -c 0) ;;
    *) fail "--pin must be none, split or same (got '$PIN')" ;;
esac
if [ "$PIN" != none ]; then
    command -v taskset >/dev/null || fail "taskset not found (Debian package util-linux)"
    [ "$(nproc)" -ge 2 ] || fail "--pin $PIN needs at least 2 CPUs"
fi
[ "${#REQUESTED[@]}" -gt 0 ] || REQUESTED=("${ALL[@]}")
# Run in the fixed order of ALL (grouped by server), each scenario once.
SCENARIOS=()
for s in "${ALL[@]}"; do
    for r in "${REQUESTED[@]}"; do
        if [ "$r" = "$s" ]; then SCENARIOS+=("$s"); break; fi
    done
done

# --- tools -------------------------------------------------------------------
[ -x /usr/bin/time ] || fail "/usr/bin/time not found (apt-get install time)"
command -v python3 >/dev/null || fail "python3 not found"
command -v curl >/dev/null || fail "curl not found"

if [ "$BUILD" = "1" ]; then
    log "building release binaries (swift build ${RELEASE_FLAGS[*]})"
    swift build "${RELEASE_FLAGS[@]}" --product perf-analyzer >&2 || fail "swift build of perf-analyzer failed (use --no-build to use existing binaries)"
    swift build "${RELEASE_FLAGS[@]}" --product kserve-sim >&2 || fail "swift build of kserve-sim failed (use --no-build to use existing binaries)"
fi
BIN="$(swift build "${RELEASE_FLAGS[@]}" --show-bin-path 2>/dev/null || echo "$ROOT/.build/release")"
OURS="$BIN/perf-analyzer"
SIM="$BIN/kserve-sim"
[ -x "$OURS" ] || fail "$OURS not found; run without --no-build"
OURS_REL="${OURS#"$ROOT"/}"

if [ -n "$BASELINE" ]; then
    THEIRS="$(cd "$(dirname "$BASELINE")" && pwd)/$(basename "$BASELINE")"
    [ -x "$THEIRS" ] || fail "--baseline $BASELINE: not an executable"
    THEIRS_VERSION="baseline: $("$THEIRS" --version 2>/dev/null | head -n 1)"
else
    THEIRS="$(scripts/install-perf-analyzer.sh 2>/dev/null | tail -n 1)" || fail "scripts/install-perf-analyzer.sh failed"
    [ -x "$THEIRS" ] || fail "perf_analyzer wrapper not found ($THEIRS)"
    THEIRS_VERSION="2.50.0"
fi

need_tcpdump() {
    command -v tcpdump >/dev/null && return 0
    [ -x /usr/bin/tcpdump ] && return 0
    log "installing tcpdump with apt-get"
    apt-get install -y --no-install-recommends tcpdump >&2 \
        || { apt-get update >&2 && apt-get install -y --no-install-recommends tcpdump >&2; } \
        || fail "tcpdump is needed for sim-rate-poisson (apt-get install tcpdump)"
}

need_nginx() {
    command -v nginx >/dev/null && return 0
    [ -x /usr/sbin/nginx ] && { PATH="$PATH:/usr/sbin"; return 0; }
    log "installing nginx-light with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends nginx-light >&2 \
        || { apt-get update >&2 && apt-get install -y --no-install-recommends nginx-light >&2; } \
        || fail "could not install nginx-light"
    # Debian's package may start the system service; we use our own instance.
    PATH="$PATH:/usr/sbin"
}

# --- work dir, servers, cleanup ----------------------------------------------
WORK="$(mktemp -d /tmp/swift-pa-bench.XXXXXX)"
LOG="$WORK/runs.jsonl"
NGINX_PID=""; SIM_PID=""; TRITON_PID=""; CURRENT=""

stop_servers() {
    if [ -n "$NGINX_PID" ]; then
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=""
    fi
    if [ -n "$SIM_PID" ]; then
        kill -TERM "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
        SIM_PID=""
    fi
    if [ -n "$TRITON_PID" ]; then
        scripts/stop-triton.sh "$TRITON_PID" >/dev/null 2>&1 || true
        TRITON_PID=""
    fi
    CURRENT=""
}
cleanup() {
    local rc=$?
    stop_servers
    if [ "${BENCH_KEEP_WORK:-0}" = "1" ] || [ "$rc" -ne 0 ]; then
        log "raw outputs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() { # URL PID NAME
    local i
    for i in $(seq 1 200); do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" = "200" ] && return 0
        sleep 0.05
    done
    return 1
}

start_nginx() {
    need_nginx
    local dir="$WORK/nginx" port
    mkdir -p "$dir"
    port="$(free_port)"
    sed -e "s#@PORT@#$port#g" -e "s#@DIR@#$dir#g" bench/nginx-kserve.conf.in >"$dir/nginx.conf"
    "${SERVER_PIN[@]}" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' </dev/null >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    wait_ready "http://127.0.0.1:$port/v2/health/ready" "$NGINX_PID" \
        || { cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null; fail "nginx did not start"; }
    URL="127.0.0.1:$port"
    SERVER_DESC="nginx $(nginx -v 2>&1 | sed 's#.*/##'), 1 worker process, canned KServe bodies (bench/nginx-kserve.conf.in), no statistics extension"
    log "nginx ready on $URL"
}

start_sim() {
    local logf="$WORK/kserve-sim.log" port="" i
    [ -x "$SIM" ] || fail "$SIM not found"
    : >"$logf"
    "${SERVER_PIN[@]}" "$SIM" --http-port 0 --grpc-port 0 --threads 1 </dev/null >"$logf" 2>&1 &
    SIM_PID=$!
    for i in $(seq 1 200); do
        port="$(sed -n 's/.*HTTP listening on .*:\([0-9][0-9]*\)$/\1/p' "$logf")"
        [ -n "$port" ] && break
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || { cat "$logf" >&2; fail "kserve-sim did not start"; }
    URL="127.0.0.1:$port"
    for i in $(seq 1 200); do
        port="$(sed -n 's/.*gRPC listening on .*:\([0-9][0-9]*\)$/\1/p' "$logf")"
        [ -n "$port" ] && break
        sleep 0.05
    done
    GRPC_URL="127.0.0.1:$port"
    wait_ready "http://$URL/v2/health/ready" "$SIM_PID" || fail "kserve-sim not ready"
    SERVER_DESC="kserve-sim (release build, --threads 1, --delay-us 0), serves statistics, so both tools also fetch statistics twice per run"
    log "kserve-sim ready on $URL"
}

start_triton() {
    local h g m
    scripts/install-triton.sh >/dev/null 2>"$WORK/install-triton.log" \
        || { tail -n 20 "$WORK/install-triton.log" >&2; fail "scripts/install-triton.sh failed"; }
    h="$(free_port)"; g="$(free_port)"; m="$(free_port)"
    while [ "$g" = "$h" ] || [ "$m" = "$h" ] || [ "$m" = "$g" ]; do g="$(free_port)"; m="$(free_port)"; done
    TRITON_PID="$(env -u RECORD_DIR "${SERVER_PIN[@]}" scripts/start-triton.sh Tests/TritonModels "$h" "$g" "$m" "$WORK/triton.log" 2>>"$WORK/start-triton.err")" \
        || { cat "$WORK/start-triton.err" >&2; fail "Triton did not start"; }
    URL="127.0.0.1:$h"
    GRPC_URL="127.0.0.1:$g"
    SERVER_DESC="Triton 2.51 (CPU, python backend, Tests/TritonModels, 1 instance per model)"
    log "Triton ready on $URL (pid $TRITON_PID)"
}

use_server() {
    [ "$CURRENT" = "$1" ] && return 0
    stop_servers
    case "$1" in
        nginx) start_nginx ;;
        sim) start_sim ;;
        triton) start_triton ;;
    esac
    CURRENT="$1"
    # Unmeasured requests first, so the first measured run (always ours) does
    # not pay for the server's warm-up (Triton's python backend in particular).
    python3 bench/bench.py warmup --url "$URL" --count 500 || fail "warm-up requests to $URL failed"
    sleep 1
}

note() { python3 bench/bench.py note --log "$LOG" "$@"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# --- machine description ------------------------------------------------------
OURS_BUILD="binary built $(date -r "$OURS" '+%Y-%m-%d %H:%M:%S'); HEAD at bench time $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "$(git status --porcelain -- Sources Package.swift 2>/dev/null || true)" ]; then
    OURS_BUILD="$OURS_BUILD, with uncommitted changes under Sources/ or Package.swift"
fi
if [ -n "$(find Sources Package.swift -newer "$OURS" -type f 2>/dev/null | head -n 1)" ]; then
    OURS_BUILD="$OURS_BUILD; some sources are newer than the binary"
fi
# shellcheck disable=SC1091  # /etc/os-release exists on every Debian system
note --type meta \
    "date=$(date '+%Y-%m-%d %H:%M:%S %Z')" \
    "command=bench/run.sh${ORIG_ARGS[*]:+ ${ORIG_ARGS[*]}}" \
    "nproc=$(nproc)" \
    "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "kernel=$(uname -r)" \
    "os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
    "free=$(free -g)" \
    "ours=$OURS_REL" \
    "ours_version=$("$OURS" --version 2>/dev/null | head -n 1)" \
    "ours_build=$OURS_BUILD" \
    "theirs=$THEIRS" \
    "theirs_version=$THEIRS_VERSION" \
    "pairs=$PAIRS" "memory_pairs=$MEMORY_PAIRS" \
    "pin=$PIN${SERVER_PIN[*]:+ (server: ${SERVER_PIN[*]}, client: ${CLIENT_PIN[*]})}"
note --type load when="start ($(date +%H:%M:%S))" "loadavg=$(loadavg)"
log "scenarios: ${SCENARIOS[*]}; pairs: $PAIRS; load average: $(loadavg)"

# --- scenarios -----------------------------------------------------------------
# Our throughput at concurrency 8 on the current server (one unmeasured run).
calibrate_rate() {
    "${CLIENT_PIN[@]}" "$OURS" -m identity_fp32 -u "$URL" --concurrency-range 8 --request-count 50000 2>/dev/null \
        | sed -n 's/^ *Throughput: *\([0-9.]*\) infer\/sec.*/\1/p' | head -n 1
}

run_scenario() {
    local name="$1" kind conc requests pairs desc limit="$TIME_LIMIT" rate="" capture=""
    local -a flags ours_extra=()
    case "$name" in
        *-image-*)
            # sim-image-c1, triton-grpc-image-shm-c1, ...: server, protocol, shared memory or not.
            kind="${name%%-*}"; conc=1; requests="$IMAGE_REQUESTS"; pairs="$PAIRS"
            local proto=http transfer="in the requests"
            flags=(-m identity_fp32_image -u URL)
            if [[ "$name" == *-grpc-* ]]; then proto=grpc; flags=(-m identity_fp32_image -i grpc -u GRPCURL); fi
            flags+=(--concurrency-range 1 --request-count "$requests")
            if [[ "$name" == *-shm-* ]]; then
                flags+=(--shared-memory system); transfer="through system shared memory (--shared-memory system)"
            fi
            desc="large input: $kind, identity_fp32_image (FP32 [3,224,224] in and out, 588 KiB each) over $proto, tensors $transfer, concurrency 1, fixed work: --request-count $requests" ;;
        sim-rate-5000)
            kind=sim; rate=5000; requests=0; pairs="$PAIRS"
            flags=(-m identity_fp32 -u URL --request-rate-range "$rate" --async -p "$RATE_WINDOW_MS")
            [ -z "$RATE_STABILITY" ] || flags+=(-s "$RATE_STABILITY")
            flags+=(--verbose-csv -f @CSV@)
            ours_extra=(--spin-before-send "$SPIN_US")
            desc="request-rate accuracy: fast server (kserve-sim), identity_fp32 over HTTP, constant $rate req/s, asynchronous (sends never wait for a connection), time windows of $RATE_WINDOW_MS ms until stable${RATE_STABILITY:+ within ${RATE_STABILITY}%} (not fixed work); ours also --spin-before-send $SPIN_US; achieved rate and our send lag (from our --verbose-csv columns)" ;;
        sim-rate-poisson)
            kind=sim; rate=2000; requests="$POISSON_REQUESTS"; pairs="$PAIRS"; capture=1
            need_tcpdump
            flags=(-m identity_fp32 -u URL --request-rate-range "$rate" --request-distribution poisson --async --request-count "$requests" --verbose-csv -f @CSV@)
            ours_extra=(--spin-before-send "$SPIN_US")
            desc="request-rate distribution: kserve-sim, identity_fp32 over HTTP, poisson $rate req/s, asynchronous, fixed work: --request-count $requests; ours also --spin-before-send $SPIN_US; gaps between the requests' TCP segments on the loopback interface (tcpdump, bench/poisson_gaps.py) against Exp($rate)" ;;
        sim-rate-2000)
            kind=sim; rate=2000; requests="$RATE_CPU_REQUESTS"; pairs="$PAIRS"
            flags=(-m identity_fp32 -u URL --request-rate-range "$rate" --request-count "$requests" --verbose-csv -f @CSV@)
            desc="request-rate client CPU: fast server (kserve-sim), identity_fp32 over HTTP, constant $rate req/s, the tools' defaults (synchronous, 4 connections, no spinning), fixed work: --request-count $requests; both tools keep the rate, so both do the same work at the same pace" ;;
        triton-rate-2000)
            kind=triton; rate=2000; requests="$RATE_CPU_REQUESTS"; pairs="$PAIRS"
            flags=(-m identity_fp32 -u URL --request-rate-range "$rate" --request-count "$requests" --verbose-csv -f @CSV@)
            desc="request-rate client CPU: real Triton, identity_fp32 over HTTP, constant $rate req/s, fixed work: --request-count $requests" ;;
        nginx-c*|sim-c*)
            kind="${name%%-*}"; conc="${name##*-c}"; requests="$FAST_REQUESTS"; pairs="$PAIRS"
            flags=(-m identity_fp32 -u URL --concurrency-range "$conc" --request-count "$requests")
            desc="fast server ($kind), identity_fp32 over HTTP, concurrency $conc, fixed work: --request-count $requests" ;;
        sim-stream-c*|triton-stream-c*)
            kind="${name%%-*}"; conc="${name##*-c}"; pairs="$PAIRS"
            requests="$TRITON_REQUESTS"; [ "$kind" = sim ] && requests="$FAST_REQUESTS"
            flags=(-m identity_fp32 -i grpc --streaming -u GRPCURL --concurrency-range "$conc" --request-count "$requests")
            desc="$kind, identity_fp32 over gRPC, one bidirectional stream per concurrency slot (--streaming), concurrency $conc, fixed work: --request-count $requests" ;;
        triton-grpc-c*)
            kind=triton; conc="${name##*-c}"; requests="$TRITON_REQUESTS"; pairs="$PAIRS"
            flags=(-m identity_fp32 -i grpc -u GRPCURL --concurrency-range "$conc" --request-count "$requests")
            desc="real Triton, identity_fp32 over gRPC (unary), concurrency $conc, fixed work: --request-count $requests" ;;
        triton-c*)
            kind=triton; conc="${name##*-c}"; requests="$TRITON_REQUESTS"; pairs="$PAIRS"
            flags=(-m identity_fp32 -u URL --concurrency-range "$conc" --request-count "$requests")
            desc="real Triton, identity_fp32 over HTTP, concurrency $conc, fixed work: --request-count $requests" ;;
        memory-60s)
            kind=nginx; conc=8; pairs="$MEMORY_PAIRS"; limit="$MEMORY_TIME_LIMIT"
            use_server "$kind"
            if [ -n "$MEMORY_REQUESTS" ]; then
                requests="$MEMORY_REQUESTS"
                desc="fast server (nginx), concurrency 8, fixed work: --request-count $requests (given)"
            else
                local rate
                rate="$(calibrate_rate)"
                [ -n "$rate" ] || fail "could not measure our c8 rate on $URL for memory-60s"
                requests="$(python3 -c "import sys; print(max(10000, int(float(sys.argv[1]) * int(sys.argv[2]) // 10000 * 10000)))" "$rate" "$MEMORY_SECONDS")"
                desc="fast server (nginx), concurrency 8, fixed work sized to ${MEMORY_SECONDS} s of OUR calibrated rate (${rate} infer/s): --request-count $requests, the same N for both tools"
            fi
            desc="$desc; peak RSS; watchdog kills a client above ${MEM_LIMIT_MB} MiB or after ${limit} s"
            flags=(-m identity_fp32 -u URL --concurrency-range 8 --request-count "$requests") ;;
    esac

    use_server "$kind"
    local -a f=("${flags[@]/#URL/$URL}")
    f=("${f[@]/#GRPCURL/${GRPC_URL:-}}")
    # bench.py replaces @CSV@ with each run's own CSV file.
    local shown="${f[*]}"
    shown="${shown//@CSV@/RUN.csv}"
    note --type scenario "name=$name" "server_kind=$kind" "server=$SERVER_DESC" \
        "description=$desc; server: $SERVER_DESC" \
        "rate=$rate" "fixed_work=$([ "$requests" -gt 0 ] && echo 1 || echo 0)" "capture=$capture" \
        "cmd_ours=${CLIENT_PIN[*]:+${CLIENT_PIN[*]} }$OURS_REL $shown${ours_extra[*]:+ ${ours_extra[*]}}" \
        "cmd_theirs=${CLIENT_PIN[*]:+${CLIENT_PIN[*]} }perf_analyzer $shown"
    note --type load when="before $name" "loadavg=$(loadavg)"
    log "$name: $desc"
    local -a extra=()
    case "$kind" in
        nginx) extra=(--server-pid "$NGINX_PID") ;;
        sim) extra=(--server-pid "$SIM_PID") ;;
        triton) extra=(--server-pid "$TRITON_PID") ;;
    esac
    [ -z "$rate" ] || extra+=(--rate "$rate")
    [ -z "$capture" ] || extra+=(--capture-port "${URL##*:}")
    local i
    for i in $(seq 1 "$pairs"); do
        python3 bench/bench.py measure --log "$LOG" --scenario "$name" --tool ours --pair "$i" \
            --requests "$requests" --mem-limit-mb "$MEM_LIMIT_MB" --time-limit-s "$limit" "${extra[@]}" --outdir "$WORK/out" -- "${CLIENT_PIN[@]}" "$OURS" "${f[@]}" "${ours_extra[@]}"
        python3 bench/bench.py measure --log "$LOG" --scenario "$name" --tool theirs --pair "$i" \
            --requests "$requests" --mem-limit-mb "$MEM_LIMIT_MB" --time-limit-s "$limit" "${extra[@]}" --outdir "$WORK/out" -- "${CLIENT_PIN[@]}" "$THEIRS" "${f[@]}"
    done
}

for s in "${SCENARIOS[@]}"; do
    run_scenario "$s"
done
stop_servers
note --type load when="end ($(date +%H:%M:%S))" "loadavg=$(loadavg)"

echo
python3 bench/bench.py report --log "$LOG" --out "$RESULTS"
cp "$LOG" "${RESULTS%.md}.jsonl"
log "report written to $RESULTS (raw records: ${RESULTS%.md}.jsonl)"
