#!/usr/bin/env bash
# Benchmarks OpenAI-compatible streaming clients against kserve-sim's /v1/chat/completions:
# ours (.build/release/perf-analyzer --service-kind openai), the reference C++ perf_analyzer
# 2.50 (--service-kind openai) and NVIDIA AIPerf 0.13.0, with the same load: the same request
# bodies (one --input-data file, converted for AIPerf), the same concurrency and the same
# request count, alternating the tools (ours, perf_analyzer, AIPerf, ours, ...).
#
# For each tool and scenario it reports the medians of:
#   - client CPU per streamed token: (user + sys of the reaped process tree) / tokens the SERVER sent
#     during the run (delta of GET /v1/sim/statistics), start-up included;
#   - accuracy: per request, the client's time to first token and inter-token latency minus
#     the server's own (kserve-sim --record: first_token_ns / last_token_ns from the request
#     body being read, and arrived_ns: the time to first token counts from the request's
#     arrival), p50 and p99: the error the client adds;
#   - a concurrency sweep at a short gap: the token rate the server streamed, and whether the
#     tool's figures drift (see bench/README.md).
#
# Usage: bench/openai-stream.sh [options] [scenario...]
#   scenarios: itl2 (ttft 20 ms, itl 2 ms, 64 tokens), itl02 (ttft 20 ms, itl 0.2 ms, 128 tokens),
#              sweep (itl 0.2 ms, 128 tokens, concurrency --sweep-levels); default: all three
#   --rounds N           alternating rounds (each: ours, perf_analyzer, AIPerf) [BENCH_ROUNDS, 3]
#   --requests N         --request-count of itl2 / itl02                       [BENCH_REQUESTS, 400]
#   --concurrency C      concurrency of itl2 / itl02                           [BENCH_CONCURRENCY, 8]
#   --sweep-levels "L"   concurrencies of the sweep                            [BENCH_SWEEP_LEVELS, "1 4 16 64"]
#   --sweep-requests N   requests per sweep level: max(N, 8 × concurrency)     [BENCH_SWEEP_REQUESTS, 400]
#   --sweep-rounds N     rounds per sweep level                                [BENCH_SWEEP_ROUNDS, 1]
#   --drift-pct P        sweep drift threshold, % of the configured ITL/TTFT  [BENCH_DRIFT_PCT, 10]
#   --tools "T"          which tools (ours pa aiperf floor)                    [BENCH_TOOLS, "ours pa aiperf floor"]
#                        floor: bench/sse_floor.c, a minimal C client (one read and one clock read per
#                        wake-up, nothing else): the least any client that times each event can cost
#   --pin MODE           none | split (server CPU 0, clients CPU 1)            [BENCH_PIN, none]
#   --results FILE       report file                  [BENCH_RESULTS, bench/results/openai-stream.md]
#   --time-limit S       kill a client after S seconds                         [BENCH_TIME_LIMIT, 600]
#   --no-build           use the existing release binaries                     [BENCH_BUILD=0]
#   --ours PATH          another perf-analyzer binary in the "ours" column (e.g. a build from
#                        before a change, for a before/after on the same machine)  [BENCH_OURS]
#   BENCH_KEEP_WORK=1    keep the temp dir (every run's output, export and the server records)
#
# Needs: swift, python3, curl, /usr/bin/time; scripts/install-perf-analyzer.sh and
# scripts/install-aiperf.sh are run (both idempotent; the first AIPerf install takes minutes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/release-flags.sh
source scripts/release-flags.sh
ORIG_ARGS=("$@")

log()  { echo "[openai-stream] $*" >&2; }
fail() { echo "[openai-stream] ERROR: $*" >&2; exit 1; }

ROUNDS="${BENCH_ROUNDS:-3}"
REQUESTS="${BENCH_REQUESTS:-400}"
CONCURRENCY="${BENCH_CONCURRENCY:-8}"
SWEEP_LEVELS="${BENCH_SWEEP_LEVELS:-1 4 16 64}"
SWEEP_REQUESTS="${BENCH_SWEEP_REQUESTS:-400}"
SWEEP_ROUNDS="${BENCH_SWEEP_ROUNDS:-1}"
DRIFT_PCT="${BENCH_DRIFT_PCT:-10}"
TOOLS="${BENCH_TOOLS:-ours pa aiperf floor}"
PIN="${BENCH_PIN:-none}"
RESULTS="${BENCH_RESULTS:-bench/results/openai-stream.md}"
TIME_LIMIT="${BENCH_TIME_LIMIT:-600}"
BUILD="${BENCH_BUILD:-1}"
OURS_GIVEN="${BENCH_OURS:-}"
MODEL="sim-llm"
PROMPT_WORDS=32
REQUESTED=()

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --requests) REQUESTS="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --sweep-levels) SWEEP_LEVELS="$2"; shift 2 ;;
        --sweep-requests) SWEEP_REQUESTS="$2"; shift 2 ;;
        --sweep-rounds) SWEEP_ROUNDS="$2"; shift 2 ;;
        --drift-pct) DRIFT_PCT="$2"; shift 2 ;;
        --tools) TOOLS="$2"; shift 2 ;;
        --pin) PIN="$2"; shift 2 ;;
        --results) RESULTS="$2"; shift 2 ;;
        --time-limit) TIME_LIMIT="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --ours) OURS_GIVEN="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        itl2|itl02|sweep) REQUESTED+=("$1"); shift ;;
        *) fail "unknown argument: $1 (see --help)" ;;
    esac
done
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || fail "$1 must be a positive whole number (got '$2')"; }
posint --rounds "$ROUNDS"; posint --requests "$REQUESTS"; posint --concurrency "$CONCURRENCY"
posint --sweep-requests "$SWEEP_REQUESTS"; posint --sweep-rounds "$SWEEP_ROUNDS"
posint --drift-pct "$DRIFT_PCT"; posint --time-limit "$TIME_LIMIT"
for l in $SWEEP_LEVELS; do posint --sweep-levels "$l"; done
for t in $TOOLS; do case "$t" in ours|pa|aiperf|floor) ;; *) fail "--tools: unknown tool $t (ours, pa, aiperf, floor)" ;; esac; done
[ "${#REQUESTED[@]}" -gt 0 ] || REQUESTED=(itl2 itl02 sweep)
SERVER_PIN=(); CLIENT_PIN=()
case "$PIN" in
    none) ;;
    split) SERVER_PIN=(taskset -c 0); CLIENT_PIN=(taskset -c 1) ;;
    *) fail "--pin must be none or split (got '$PIN')" ;;
esac

# --- tools -------------------------------------------------------------------
[ -x /usr/bin/time ] || fail "/usr/bin/time not found (apt-get install time)"
command -v python3 >/dev/null || fail "python3 not found"
command -v curl >/dev/null || fail "curl not found"
if [ "$BUILD" = "1" ]; then
    log "building release binaries (swift build ${RELEASE_FLAGS[*]})"
    # One product per call: `swift build` builds only the last of several --product flags.
    swift build "${RELEASE_FLAGS[@]}" --product perf-analyzer >&2 \
        || fail "swift build of perf-analyzer failed (use --no-build to use existing binaries)"
    swift build "${RELEASE_FLAGS[@]}" --product kserve-sim >&2 \
        || fail "swift build of kserve-sim failed (use --no-build to use existing binaries)"
fi
BIN="$(swift build "${RELEASE_FLAGS[@]}" --show-bin-path 2>/dev/null || echo "$ROOT/.build/release")"
OURS="${OURS_GIVEN:-$BIN/perf-analyzer}"
SIM="$BIN/kserve-sim"
case " $TOOLS " in *" ours "*) [ -x "$OURS" ] || fail "$OURS not found; run without --no-build" ;; esac
[ -x "$SIM" ] || fail "$SIM not found; run without --no-build"
PA="$(scripts/install-perf-analyzer.sh 2>/dev/null | tail -n 1)" || fail "scripts/install-perf-analyzer.sh failed"
[ -x "$PA" ] || fail "perf_analyzer wrapper not found ($PA)"
AIPERF_VENV="$(scripts/install-aiperf.sh | tail -n 1)" || fail "scripts/install-aiperf.sh failed"
AIPERF="$AIPERF_VENV/bin/aiperf"
TOKENIZER="$AIPERF_VENV/tokenizer"
[ -x "$AIPERF" ] || fail "aiperf not found in $AIPERF_VENV"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/openai-stream.XXXXXX")"
LOG="$WORK/log.jsonl"
FLOOR="$WORK/sse_floor"
case " $TOOLS " in
    *" floor "*) command -v cc >/dev/null || fail "the floor client needs a C compiler (cc)"
                 cc -O2 -o "$FLOOR" bench/sse_floor.c || fail "could not build bench/sse_floor.c" ;;
esac
mkdir -p "$(dirname "$RESULTS")"
SIM_PID=""
stop_sim() {
    if [ -n "$SIM_PID" ]; then
        kill -TERM "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
        SIM_PID=""
    fi
}
cleanup() {
    local rc=$?
    stop_sim
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

note() { python3 bench/openai_stream.py note --log "$LOG" "$@"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# start_sim TTFT_MS ITL_MS TOKENS: kserve-sim on a free port, recording every request.
start_sim() {
    local logf="$WORK/kserve-sim.log" port="" i
    stop_sim
    RECORD="$WORK/record-$1-$2-$3.jsonl"
    : >"$logf"; : >"$RECORD"
    "${SERVER_PIN[@]}" "$SIM" --http-port 0 --grpc-port 0 --threads 1 \
        --openai-model "$MODEL" --openai-ttft-ms "$1" --openai-itl-ms "$2" --openai-output-tokens "$3" \
        --record "$RECORD" </dev/null >"$logf" 2>&1 &
    SIM_PID=$!
    for i in $(seq 1 200); do
        port="$(sed -n 's/.*HTTP listening on .*:\([0-9][0-9]*\)$/\1/p' "$logf")"
        [ -n "$port" ] && break
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || { cat "$logf" >&2; fail "kserve-sim did not start"; }
    HOSTPORT="127.0.0.1:$port"
    for i in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$HOSTPORT/v1/models" || true)" = "200" ] && break
        sleep 0.05
    done
    # Unmeasured warm-up: a few streamed requests.
    for i in 1 2 3 4 5; do
        curl -s -o /dev/null --max-time 10 -H 'Content-Type: application/json' \
            -d "{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}],\"max_tokens\":$3,\"stream\":true}" \
            "http://$HOSTPORT/v1/chat/completions" || fail "warm-up request to $HOSTPORT failed"
    done
    SERVER_DESC="kserve-sim (release, --threads 1) --openai-ttft-ms $1 --openai-itl-ms $2 --openai-output-tokens $3 --record FILE"
    log "kserve-sim ready on $HOSTPORT (ttft $1 ms, itl $2 ms, $3 tokens)"
}

# --- machine description ------------------------------------------------------
OURS_BUILD="built $(date -r "$OURS" '+%Y-%m-%d %H:%M:%S' 2>/dev/null || echo '?'), HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "$OURS_GIVEN" ]; then
    OURS_BUILD="built $(date -r "$OURS" '+%Y-%m-%d %H:%M:%S' 2>/dev/null || echo '?'), given with --ours"
elif [ -n "$(git status --porcelain -- Sources Package.swift 2>/dev/null || true)" ]; then
    OURS_BUILD="$OURS_BUILD (uncommitted changes under Sources/)"
fi
note --type meta \
    "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
    "command=bench/openai-stream.sh${ORIG_ARGS[*]:+ ${ORIG_ARGS[*]}}" \
    "machine=$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -r), client and server on the same machine, pin: $PIN" \
    "ours=${OURS#"$ROOT"/} ($("$OURS" --version 2>/dev/null | head -n 1); $OURS_BUILD)" \
    "pa=perf_analyzer 2.50.0 ($PA)" \
    "aiperf=AIPerf $("$AIPERF_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("aiperf"))') ($AIPERF, --tokenizer $TOKENIZER: word-level, one token per kserve-sim word)"
note --type load when="start ($(date +%H:%M:%S))" "loadavg=$(loadavg)"

# --- one measurement -------------------------------------------------------------
# measure SCENARIO TOOL ROUND TTFT ITL TOKENS CONC REQUESTS
measure() {
    local scen="$1" tool="$2" round="$3" ttft="$4" itl="$5" tokens="$6" conc="$7" n="$8"
    local export="$WORK/out/$scen-$tool-$round.export"
    local -a cmd
    mkdir -p "$WORK/out"
    case "$tool" in
        ours|pa)
            local bin="$OURS"; [ "$tool" = pa ] && bin="$PA"
            export="$export.json"
            cmd=("${CLIENT_PIN[@]}" "$bin" -m "$MODEL" --service-kind openai --endpoint v1/chat/completions
                 -u "$HOSTPORT" --input-data "$BODIES_PA" --async --concurrency-range "$conc"
                 --request-count "$n" --profile-export-file @EXPORT@) ;;
        floor)
            export="$export.json"
            cmd=("${CLIENT_PIN[@]}" "$FLOOR" "$HOSTPORT" "$conc" "$n" "$BODIES_LINES" @EXPORT@) ;;
        aiperf)
            rm -rf "$export"
            cmd=("${CLIENT_PIN[@]}" "$AIPERF" profile
                 --model "$MODEL" --url "http://$HOSTPORT" --endpoint-type chat --streaming
                 --input-file "$BODIES_AIPERF" --custom-dataset-type inputs-json
                 --concurrency "$conc" --request-count "$n" --tokenizer "$TOKENIZER"
                 --artifact-dir @EXPORT@ --ui-type none --no-server-metrics --no-gpu-telemetry) ;;
    esac
    python3 bench/openai_stream.py measure --log "$LOG" --scenario "$scen" --tool "$tool" --round "$round" \
        --server "http://$HOSTPORT" --record "$RECORD" --ttft-ms "$ttft" --itl-ms "$itl" --tokens "$tokens" \
        --concurrency "$conc" --requests "$n" --export "$export" --outdir "$WORK/out" \
        --time-limit-s "$TIME_LIMIT" -- "${cmd[@]}"
}

shown_cmd() { # TOOL CONC N -> the command line as documented
    case "$1" in
        ours) echo "${OURS#"$ROOT"/} -m $MODEL --service-kind openai --endpoint v1/chat/completions -u 127.0.0.1:PORT --input-data bodies.json --async --concurrency-range $2 --request-count $3 --profile-export-file EXPORT.json" ;;
        floor) echo "bench/sse_floor 127.0.0.1:PORT $2 $3 bodies.lines EXPORT.json" ;;
        pa) echo "perf_analyzer -m $MODEL --service-kind openai --endpoint v1/chat/completions -u 127.0.0.1:PORT --input-data bodies.json --async --concurrency-range $2 --request-count $3 --profile-export-file EXPORT.json" ;;
        aiperf) echo "aiperf profile --model $MODEL --url http://127.0.0.1:PORT --endpoint-type chat --streaming --input-file bodies-aiperf.json --custom-dataset-type inputs-json --concurrency $2 --request-count $3 --tokenizer TOKENIZER_DIR --artifact-dir DIR --ui-type none --no-server-metrics --no-gpu-telemetry" ;;
    esac
}

# run_level NAME TTFT ITL TOKENS CONC REQUESTS ROUNDS SWEEP DESCRIPTION
run_level() {
    local name="$1" ttft="$2" itl="$3" tokens="$4" conc="$5" n="$6" rounds="$7" sweep="$8" desc="$9" r t
    BODIES_PA="$WORK/bodies-$tokens-$n.json"
    BODIES_AIPERF="$WORK/bodies-aiperf-$tokens-$n.json"
    BODIES_LINES="$WORK/bodies-$tokens-$n.lines"
    [ -f "$BODIES_PA" ] || python3 bench/openai_stream.py bodies --count "$n" --prompt-words "$PROMPT_WORDS" \
        --tokens "$tokens" --model "$MODEL" --pa "$BODIES_PA" --aiperf "$BODIES_AIPERF" --lines "$BODIES_LINES"
    note --type scenario "name=$name" "sweep=$sweep" "concurrency=$conc" "ttft_ms=$ttft" "itl_ms=$itl" \
        "tokens=$tokens" "requests=$n" "drift_pct=$DRIFT_PCT" "description=$desc; server: $SERVER_DESC" \
        "cmd_ours=$(shown_cmd ours "$conc" "$n")" "cmd_pa=$(shown_cmd pa "$conc" "$n")" "cmd_aiperf=$(shown_cmd aiperf "$conc" "$n")" \
        "cmd_floor=$(shown_cmd floor "$conc" "$n")"
    note --type load when="before $name ($(date +%H:%M:%S))" "loadavg=$(loadavg)"
    log "$name: $desc"
    for r in $(seq 1 "$rounds"); do
        for t in $TOOLS; do
            measure "$name" "$t" "$r" "$ttft" "$itl" "$tokens" "$conc" "$n"
        done
    done
    # Round 0: a start-up run (--request-count = concurrency) per tool, so the report can
    # also give the CPU per token without start-up and shutdown.
    if [ "$sweep" = 0 ]; then
        for t in $TOOLS; do
            measure "$name" "$t" 0 "$ttft" "$itl" "$tokens" "$conc" "$conc"
        done
    fi
}

for s in itl2 itl02 sweep; do
    case " ${REQUESTED[*]} " in *" $s "*) ;; *) continue ;; esac
    case "$s" in
        itl2)
            start_sim 20 2 64
            run_level itl2 20 2 64 "$CONCURRENCY" "$REQUESTS" "$ROUNDS" 0 \
                "time to first token 20 ms, a token every 2 ms, 64 tokens per answer, concurrency $CONCURRENCY, --request-count $REQUESTS (the same $REQUESTS bodies for every tool), fixed work" ;;
        itl02)
            start_sim 20 0.2 128
            run_level itl02 20 0.2 128 "$CONCURRENCY" "$REQUESTS" "$ROUNDS" 0 \
                "time to first token 20 ms, a token every 0.2 ms, 128 tokens per answer, concurrency $CONCURRENCY, --request-count $REQUESTS, fixed work" ;;
        sweep)
            start_sim 20 0.2 128
            for c in $SWEEP_LEVELS; do
                n=$(( SWEEP_REQUESTS > 8 * c ? SWEEP_REQUESTS : 8 * c ))
                run_level "sweep-c$c" 20 0.2 128 "$c" "$n" "$SWEEP_ROUNDS" 1 \
                    "concurrency sweep: time to first token 20 ms, a token every 0.2 ms, 128 tokens, concurrency $SWEEP_LEVELS, --request-count max($SWEEP_REQUESTS, 8 × concurrency), $SWEEP_ROUNDS round(s) per level"
            done ;;
    esac
done
stop_sim
note --type load when="end ($(date +%H:%M:%S))" "loadavg=$(loadavg)"

echo
python3 bench/openai_stream.py report --log "$LOG" --out "$RESULTS"
cp "$LOG" "${RESULTS%.md}.jsonl"
log "report written to $RESULTS (raw records: ${RESULTS%.md}.jsonl)"
