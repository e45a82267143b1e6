#!/usr/bin/env python3
"""Helper for bench/openai-stream.sh: OpenAI streaming clients against kserve-sim.

Subcommands (all append to / read from one JSON-lines log file):

  openai_stream.py bodies --count N --prompt-words W --tokens T --model M --pa FILE --aiperf FILE
      Writes N chat-completion bodies ("stream": true, stream_options.include_usage,
      max_tokens T, a prompt of W words that starts with a unique "req-NNNNNN") twice: in
      perf_analyzer's --input-data format ({"data":[{"payload":[BODY]}]}, read by ours too)
      and in AIPerf's inputs-json format ({"data":[{"session_id":..,"payloads":[BODY]}]}).
      Every tool sends exactly these bodies.

  openai_stream.py measure --log LOG --scenario S --tool ours|pa|aiperf --round I
                           --server http://HOST:PORT --record FILE --ttft-ms X --itl-ms Y
                           --tokens T --concurrency C --requests N --export PATH
                           --outdir DIR [--time-limit-s S] -- CMD...
      Runs CMD (its CPU time from wait4, its peak RSS from /usr/bin/time) and appends one {"type": "run"}
      record to LOG with: client CPU (user+sys) per token the SERVER sent (delta of
      GET /v1/sim/statistics around the run), and per request, the client's time to
      first token and inter-token latency against the server's own figures from its
      --record lines (first_token_ns / last_token_ns, from the request body being read,
      and arrived_ns, when the server's loop woke with the request's first bytes): the
      error the client adds, counted from the request's arrival so that the time a request
      waited in the server behind others is the server's. Client figures come from each
      tool's export: ours and perf_analyzer's --profile-export-file (response_timestamps;
      a response can hold several SSE events; only events with non-empty delta content
      count as tokens),
      AIPerf's profile_export.jsonl (its own per-request time_to_first_token and
      inter_token_latency). Requests are paired with the server's record by the unique
      "req-NNNNNN" in the body (ours, perf_analyzer) or by AIPerf's X-Request-ID header.
      Also parses the figures each tool reports itself (ours: the LLM: section; AIPerf:
      profile_export_aiperf.json).

  openai_stream.py note --log LOG --type T key=value...

  openai_stream.py report --log LOG --out FILE
      Prints the markdown report (medians per tool and scenario, ratios, targets, the
      concurrency sweep) and writes it to FILE.

Only the Python standard library is used.
"""

import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

TOOLS = ("ours", "pa", "aiperf", "floor")
TOOL_NAMES = {"ours": "ours", "pa": "perf_analyzer 2.50", "aiperf": "AIPerf 0.13.0", "floor": "C floor"}
ID_RE = re.compile(r"req-(\d{6})")
CONTENT_RE = re.compile(r'"content"\s*:\s*"[^"]')


def pct(values, p):
    """Nearest-rank percentile (as perf_analyzer reports them)."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------
# bodies
# ---------------------------------------------------------------------------

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
         "simulated", "tokens", "stream", "out", "one", "by"]


def cmd_bodies(a):
    pa, ai, lines = [], [], []
    for i in range(a.count):
        words = ["req-%06d" % i] + [WORDS[(i + k) % len(WORDS)] for k in range(a.prompt_words - 1)]
        body = {
            "model": a.model,
            "messages": [{"role": "user", "content": " ".join(words)}],
            "max_tokens": a.tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        pa.append({"payload": [body]})
        lines.append(json.dumps(body, separators=(",", ":")))
        ai.append({"session_id": "s%06d" % i, "payloads": [body]})
    with open(a.pa, "w") as f:
        json.dump({"data": pa}, f)
    with open(a.aiperf, "w") as f:
        json.dump({"data": ai}, f)
    if a.lines:
        with open(a.lines, "w") as f:
            f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# measure
# ---------------------------------------------------------------------------

def get_stats(server):
    with urllib.request.urlopen(server + "/v1/sim/statistics", timeout=10) as r:
        return json.loads(r.read())


def read_records(path, offset):
    out = []
    with open(path, "rb") as f:
        f.seek(offset)
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def server_request(rec):
    """The server's own figures for one record line (ns), or None."""
    if not rec.get("stream") or rec.get("first_token_ns") is None:
        return None
    n = rec.get("tokens_sent") or 0
    first, last = rec["first_token_ns"], rec.get("last_token_ns") or rec["first_token_ns"]
    m = ID_RE.search(rec.get("body") or "")
    headers = rec.get("headers") or {}
    # arrived_ns: the server loop's wake-up that read the request's first bytes. From there
    # to time_ns the request waited behind the others that loop read and answered first.
    wait = rec["time_ns"] - rec["arrived_ns"] if rec.get("arrived_ns") and rec.get("time_ns") else None
    return {
        "id": m.group(1) if m else None,
        "xrid": headers.get("x-request-id"),
        "t0": rec.get("time_ns"),
        "ttft": first,
        "wait": wait,
        "ttft_arrival": first + wait if wait is not None else None,
        "itl": (last - first) / (n - 1) if n > 1 else None,
        "tokens": n,
        "end": (rec.get("time_ns") or 0) + last,
        "ok": bool(rec.get("succeeded")),
    }


def pa_export_requests(path):
    """Per-request client figures from a perf_analyzer-format profile export (ours or theirs)."""
    with open(path) as f:
        doc = json.load(f)
    reqs = []
    for exp in doc.get("experiments", []):
        for r in exp.get("requests", []):
            payload = (r.get("request_inputs") or {}).get("payload") or ""
            if not isinstance(payload, str):
                payload = json.dumps(payload)
            m = ID_RE.search(payload)
            start = r.get("timestamp")
            first = last = None
            n = 0
            for ts, out in zip(r.get("response_timestamps") or [], r.get("response_outputs") or []):
                text = out.get("response", "") if isinstance(out, dict) else str(out)
                k = len(CONTENT_RE.findall(text))
                if k:
                    if first is None:
                        first = ts
                    last = ts
                    n += k
            if start is None or first is None:
                continue
            reqs.append({
                "id": m.group(1) if m else None, "t0": start,
                "ttft": first - start,
                "itl": (last - first) / (n - 1) if n > 1 else None,
                "tokens": n,
            })
    return reqs


def metric_value(metrics, name):
    v = metrics.get(name)
    if isinstance(v, dict):
        unit = v.get("unit", "ms")
        v = v.get("value")
        if v is None:
            return None
        return v * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}.get(unit, 1e6)
    return v


def aiperf_export_requests(artifact_dir):
    path = os.path.join(artifact_dir, "profile_export.jsonl")
    reqs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            md, mt = rec.get("metadata") or {}, rec.get("metrics") or {}
            ttft = metric_value(mt, "time_to_first_token")
            if ttft is None:
                continue
            itl = metric_value(mt, "inter_token_latency")
            osl = mt.get("output_sequence_length")
            if isinstance(osl, dict):
                osl = osl.get("value")
            reqs.append({"xrid": md.get("x_request_id"), "t0": md.get("request_start_ns"),
                         "ttft": ttft, "itl": itl, "tokens": osl})
    return reqs


def aiperf_summary(artifact_dir):
    path = os.path.join(artifact_dir, "profile_export_aiperf.json")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}
    out = {}
    for key, name in (("time_to_first_token", "ttft"), ("inter_token_latency", "itl")):
        m = doc.get(key) or {}
        scale = {"ns": 1e-3, "us": 1, "ms": 1e3, "s": 1e6}.get(m.get("unit", "ms"), 1e3)
        if m.get("p50") is not None:
            out["rep_%s_p50_us" % name] = m["p50"] * scale
    m = doc.get("output_token_throughput") or {}
    if m.get("avg") is not None:
        out["rep_token_rate"] = m["avg"]
    return out


def ours_console(text):
    """Our LLM: section (time to first token / inter-token latency p50 in usec, token rate)."""
    out = {}
    sec = text[text.find("LLM:"):] if "LLM:" in text else ""
    if not sec:
        return out
    for key, label in (("ttft", r"[Tt]ime to first token"), ("itl", r"[Ii]nter-token latency")):
        m = re.search(label + r"[^\n]*?p50[^0-9]*([0-9.]+)", sec)
        if m:
            out["rep_%s_p50_us" % key] = float(m.group(1))
    m = re.search(r"[Tt]oken throughput:?\s*([0-9.]+)", sec)
    if m:
        out["rep_token_rate"] = float(m.group(1))
    return out


def pair(client, server, key):
    """Pairs client and server requests by key; repeated keys in order of start time."""
    by = {}
    for s in server:
        if s.get(key) is not None:
            by.setdefault(s[key], []).append(s)
    for v in by.values():
        v.sort(key=lambda s: s["t0"] or 0)
    used = {}
    out = []
    for c in sorted(client, key=lambda c: c["t0"] or 0):
        k = c.get(key)
        if k is None or k not in by:
            continue
        i = used.get(k, 0)
        if i < len(by[k]):
            out.append((c, by[k][i]))
            used[k] = i + 1
    return out


def run_cmd(cmd, outdir, tag, limit):
    """Runs cmd to its end (killed after `limit` s). Its CPU time is the kernel's accounting
    of the reaped process tree (wait4), to the microsecond: /usr/bin/time prints hundredths of
    a second, 4% of a short run's CPU. /usr/bin/time stays in between for the peak RSS (a
    child forked from this Python would count Python's own pages); its own CPU, under 1 ms
    a run, is in every tool's figure alike."""
    time_path = os.path.join(outdir, tag + ".time")
    out_path = os.path.join(outdir, tag + ".out")
    err_path = os.path.join(outdir, tag + ".err")
    full = ["/usr/bin/time", "-f", "%M", "-o", time_path] + cmd
    t0 = time.monotonic()
    killed = False
    with open(out_path, "w") as so, open(err_path, "w") as se:
        p = subprocess.Popen(full, stdout=so, stderr=se, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = t0 + limit
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > deadline and not killed:
                os.killpg(p.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.01)
    wall = time.monotonic() - t0
    p.returncode = rc = os.waitstatus_to_exitcode(status)
    rss_kb = 0.0
    try:
        with open(time_path) as f:
            for line in f:
                if line.strip().isdigit():
                    rss_kb = float(line)
    except OSError:
        pass
    fields = [wall, usage.ru_utime, usage.ru_stime, rss_kb]
    with open(out_path, errors="replace") as f:
        text = f.read()
    return rc, killed, wall, fields, text, err_path


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def cmd_measure(a):
    os.makedirs(a.outdir, exist_ok=True)
    tag = "%s-%s-%d" % (a.scenario, a.tool, a.round)
    cmd = [a.export if x == "@EXPORT@" else x for x in a.cmd]
    stats0 = get_stats(a.server)
    offset = os.path.getsize(a.record)
    load = open("/proc/loadavg").read().split()[:3]
    rc, killed, wall, fields, text, err_path = run_cmd(cmd, a.outdir, tag, a.time_limit_s)
    time.sleep(0.3)  # record lines of requests the client left at exit
    stats1 = get_stats(a.server)
    records = read_records(a.record, offset)
    rec = {"type": "run", "scenario": a.scenario, "tool": a.tool, "round": a.round,
           "concurrency": a.concurrency, "requests": a.requests, "ttft_ms": a.ttft_ms,
           "itl_ms": a.itl_ms, "tokens": a.tokens, "rc": rc, "killed": killed,
           "loadavg": " ".join(load), "cmd": " ".join(cmd)}
    if fields:
        rec.update(wall_s=fields[0], user_s=fields[1], sys_s=fields[2], rss_mb=fields[3] / 1024.0)
    else:
        rec["wall_s"] = wall
    d = {k: stats1.get(k, 0) - stats0.get(k, 0) for k in stats1}
    rec.update(server_requests=d.get("requests"), server_succeeded=d.get("succeeded"),
               server_failed=d.get("failed"), server_tokens=d.get("completion_tokens"))
    if fields and d.get("completion_tokens"):
        rec["cpu_us_per_token"] = (fields[1] + fields[2]) * 1e6 / d["completion_tokens"]
    if rc != 0 or killed:
        rec["stderr_tail"] = tail(err_path)
    server = [s for s in (server_request(r) for r in records) if s]
    if server:
        t_start = min(s["t0"] for s in server)
        t_end = max(s["end"] for s in server)
        if t_end > t_start:
            rec["server_token_rate"] = sum(s["tokens"] for s in server) / ((t_end - t_start) / 1e9)
        rec["server_ttft_p50_us"] = pct([s["ttft"] / 1e3 for s in server], 50)
        rec["server_ttft_p99_us"] = pct([s["ttft"] / 1e3 for s in server], 99)
        itls = [s["itl"] / 1e3 for s in server if s["itl"] is not None]
        rec["server_itl_p50_us"] = pct(itls, 50)
        rec["server_itl_p99_us"] = pct(itls, 99)
    client = []
    try:
        if a.tool == "aiperf":
            client = aiperf_export_requests(a.export)
            rec.update(aiperf_summary(a.export))
            key = "xrid"
        else:
            client = pa_export_requests(a.export)
            key = "id"
            if a.tool == "ours":
                rec.update(ours_console(text))
    except (OSError, ValueError) as e:
        rec["export_error"] = "%s: %s" % (type(e).__name__, e)
        key = "id"
    pairs = pair(client, server, key)
    rec["client_requests"] = len(client)
    rec["paired"] = len(pairs)
    if pairs:
        ttft_c = [c["ttft"] / 1e3 for c, _ in pairs]
        ttft_add = [(c["ttft"] - s["ttft"]) / 1e3 for c, s in pairs]
        itl_pairs = [(c["itl"], s["itl"]) for c, s in pairs if c["itl"] is not None and s["itl"] is not None]
        rec["client_ttft_p50_us"] = pct(ttft_c, 50)
        rec["client_ttft_p99_us"] = pct(ttft_c, 99)
        rec["ttft_added_p50_us"] = pct(ttft_add, 50)
        rec["ttft_added_p99_us"] = pct(ttft_add, 99)
        arr = [(c["ttft"] - s["ttft_arrival"]) / 1e3 for c, s in pairs if s["ttft_arrival"] is not None]
        if arr:
            rec["ttft_added_arrival_p50_us"] = pct(arr, 50)
            rec["ttft_added_arrival_p99_us"] = pct(arr, 99)
            waits = [s["wait"] / 1e3 for _, s in pairs if s["wait"] is not None]
            rec["server_wait_p50_us"] = pct(waits, 50)
            rec["server_wait_p90_us"] = pct(waits, 90)
        if itl_pairs:
            rec["client_itl_p50_us"] = pct([c / 1e3 for c, _ in itl_pairs], 50)
            rec["itl_added_p50_us"] = pct([(c - s) / 1e3 for c, s in itl_pairs], 50)
            rec["itl_added_p99_us"] = pct([(c - s) / 1e3 for c, s in itl_pairs], 99)
        mism = sum(1 for c, s in pairs if c["tokens"] is not None and c["tokens"] != s["tokens"])
        rec["token_count_mismatches"] = mism
    with open(a.log, "a") as f:
        f.write(json.dumps(rec) + "\n")
    brief = ("%s %s #%d: rc=%s cpu=%s us/token, ttft+%s us from arrival (p99 %s; +%s from the body read), itl+%s us, paired %d/%d, load %s"
             % (a.scenario, a.tool, a.round, rc, fmt(rec.get("cpu_us_per_token"), "%.2f"),
                fmt(rec.get("ttft_added_arrival_p50_us"), "%.0f"), fmt(rec.get("ttft_added_arrival_p99_us"), "%.0f"),
                fmt(rec.get("ttft_added_p50_us"), "%.0f"),
                fmt(rec.get("itl_added_p50_us"), "%.1f"), len(pairs), len(server), rec["loadavg"]))
    print("[openai-stream] " + brief, file=sys.stderr)


# ---------------------------------------------------------------------------
# note / report
# ---------------------------------------------------------------------------

def cmd_note(a):
    rec = {"type": a.type}
    for kv in a.kv:
        k, _, v = kv.partition("=")
        rec[k] = v
    with open(a.log, "a") as f:
        f.write(json.dumps(rec) + "\n")


def fmt(v, f="%.1f"):
    return "—" if v is None else f % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return "%.2f×" % r if r >= 0.01 else "%.4f×" % r


def load_log(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    return recs


ROWS = [
    # key, label, format, compare (ratio shown), target
    ("cpu_us_per_token", "client CPU µs / streamed token (user+sys ÷ tokens the server sent, incl. start-up)", "%.2f", True, None),
    ("ttft_added_arrival_p50_us", "added TTFT p50 (µs): client TTFT − server's TTFT from the request's arrival (first_token_ns + time_ns − arrived_ns), per request", "%.0f", False, None),
    ("ttft_added_arrival_p99_us", "added TTFT p99 (µs), from arrival", "%.0f", False, None),
    ("ttft_added_p50_us", "added TTFT p50 (µs) from the body being read: client TTFT − server's first_token_ns (counts the server's queue as the client's)", "%.0f", False, None),
    ("ttft_added_p99_us", "added TTFT p99 (µs), from the body being read", "%.0f", False, None),
    ("server_wait_p50_us", "server queue p50 / p90 (µs): time_ns − arrived_ns, the request's wait behind others the server's loop read first", "%.0f", False, None),
    ("server_wait_p90_us", "server queue p90 (µs)", "%.0f", False, None),
    ("itl_added_p50_us", "added ITL p50 (µs): client ITL − server's (last−first)/(n−1), per request", "%.1f", False, None),
    ("itl_added_p99_us", "added ITL p99 (µs)", "%.1f", False, None),
    ("client_ttft_p50_us", "client TTFT p50 (µs), from its export", "%.0f", False, None),
    ("client_itl_p50_us", "client ITL p50 (µs), from its export", "%.1f", False, None),
    ("rep_ttft_p50_us", "TTFT p50 the tool prints (µs)", "%.0f", False, None),
    ("rep_itl_p50_us", "ITL p50 the tool prints (µs)", "%.1f", False, None),
    ("server_ttft_p50_us", "server's own TTFT p50 (µs, from its record)", "%.0f", False, None),
    ("server_itl_p50_us", "server's own ITL p50 (µs)", "%.1f", False, None),
    ("server_token_rate", "tokens/s the server streamed (its record: tokens ÷ first request read to last token)", "%.0f", False, None),
    ("wall_s", "wall s (incl. start-up)", "%.1f", False, None),
    ("rss_mb", "peak RSS (MB)", "%.0f", False, None),
]

TARGETS = {
    "cpu_us_per_token": "≤ 0.2× AIPerf, ≤ 0.5× perf_analyzer",
    "ttft_added_arrival_p50_us": "ours ≤ 100 µs",
}


def cmd_report(a):
    recs = load_log(a.log)
    meta = next((r for r in recs if r["type"] == "meta"), {})
    runs = [r for r in recs if r["type"] == "run"]
    scen = [r for r in recs if r["type"] == "scenario"]
    loads = [r for r in recs if r["type"] == "load"]
    L = []
    L.append("# OpenAI streams: ours, perf_analyzer 2.50, AIPerf, and a minimal C client")
    L.append("")
    for k in ("date", "command", "machine", "ours", "pa", "aiperf", "server"):
        if meta.get(k):
            L.append("- **%s**: %s" % (k, meta[k]))
    for r in loads:
        L.append("- load average %s: %s" % (r.get("when"), r.get("loadavg")))
    L.append("")
    fixed = [s for s in scen if s.get("sweep") != "1"]
    sweep = [s for s in scen if s.get("sweep") == "1"]
    for s in fixed:
        name = s["name"]
        rs = [r for r in runs if r["scenario"] == name and r["round"] > 0]
        startup = {r["tool"]: r for r in runs if r["scenario"] == name and r["round"] == 0 and r.get("rc") == 0}
        L.append("## %s" % name)
        L.append("")
        L.append(s.get("description", ""))
        L.append("")
        L.append("| metric | ours | perf_analyzer | AIPerf | C floor | ours / AIPerf | ours / perf_analyzer | C floor / perf_analyzer | target | met? |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for key, label, f, comp, _ in ROWS:
            med = {t: median([r.get(key) for r in rs if r["tool"] == t and r.get("rc") == 0]) for t in TOOLS}
            if all(v is None for v in med.values()):
                continue
            target = TARGETS.get(key, "—")
            met = "—"
            if key == "cpu_us_per_token" and med["ours"] is not None:
                ok = []
                if med["aiperf"]:
                    ok.append(med["ours"] / med["aiperf"] <= 0.2)
                if med["pa"]:
                    ok.append(med["ours"] / med["pa"] <= 0.5)
                met = ("yes" if all(ok) else "no") if ok else "—"
            if key == "ttft_added_arrival_p50_us" and med["ours"] is not None:
                met = "yes" if med["ours"] <= 100 else "no (by %.0f µs)" % (med["ours"] - 100)
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                label, fmt(med["ours"], f), fmt(med["pa"], f), fmt(med["aiperf"], f), fmt(med["floor"], f),
                ratio(med["ours"], med["aiperf"]) if comp else "", ratio(med["ours"], med["pa"]) if comp else "",
                ratio(med["floor"], med["pa"]) if comp else "", target, met))
        # CPU per token without start-up: (median CPU − CPU of the start-up run) / (median
        # server tokens − its tokens).
        marg = {}
        for t in TOOLS:
            tr = [r for r in rs if r["tool"] == t and r.get("rc") == 0 and r.get("user_s") is not None]
            s0 = startup.get(t)
            if tr and s0 and s0.get("user_s") is not None:
                dc = median([r["user_s"] + r["sys_s"] for r in tr]) - (s0["user_s"] + s0["sys_s"])
                dt = median([r.get("server_tokens") for r in tr]) - (s0.get("server_tokens") or 0)
                if dt and dt > 0:
                    marg[t] = max(dc, 0) * 1e6 / dt
        if marg:
            L.append("| client CPU µs / streamed token, start-up excluded (minus a run of `--request-count` = concurrency) | %s | %s | %s | %s | %s | %s | %s | (info) | — |" % (
                fmt(marg.get("ours"), "%.2f"), fmt(marg.get("pa"), "%.2f"), fmt(marg.get("aiperf"), "%.2f"),
                fmt(marg.get("floor"), "%.2f"), ratio(marg.get("ours"), marg.get("aiperf")), ratio(marg.get("ours"), marg.get("pa")),
                ratio(marg.get("floor"), marg.get("pa"))))
            L.append("| start-up run: client CPU s (user+sys) | %s | %s | %s | %s | | | | (info) | — |" % tuple(
                fmt((startup[t]["user_s"] + startup[t]["sys_s"]) if t in startup and startup[t].get("user_s") is not None else None, "%.2f")
                for t in TOOLS))
        L.append("")
        L.append("Every run (cpu µs/token; added TTFT p50/p99 µs from arrival, p50 from the body read; added ITL p50 µs; paired/server requests; load):")
        L.append("")
        for r in rs + [startup[t] for t in TOOLS if t in startup]:
            L.append("- %s #%s: rc %s, cpu %s, TTFT +%s/+%s (+%s), ITL +%s, paired %s/%s, server tokens %s, load %s%s" % (
                TOOL_NAMES[r["tool"]], r["round"], r["rc"], fmt(r.get("cpu_us_per_token"), "%.2f"),
                fmt(r.get("ttft_added_arrival_p50_us"), "%.0f"), fmt(r.get("ttft_added_arrival_p99_us"), "%.0f"),
                fmt(r.get("ttft_added_p50_us"), "%.0f"),
                fmt(r.get("itl_added_p50_us"), "%.1f"), r.get("paired"), r.get("server_requests"),
                r.get("server_tokens"), r.get("loadavg"),
                (" — stderr: " + r["stderr_tail"].strip().replace("\n", " / ")[-300:]) if r.get("stderr_tail") else ""))
        L.append("")
    if sweep:
        s0 = sweep[0]
        L.append("## Concurrency sweep")
        L.append("")
        L.append(s0.get("description", ""))
        L.append("")
        L.append("| concurrency | tool | server tokens/s | tool-reported tokens/s | client CPU µs/token | added TTFT p50 / p99 (µs, from arrival) | added ITL p50 (µs) | server's own TTFT p50 / ITL p50 (µs) | drift? |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        thr = float(s0.get("drift_pct", "10"))
        for s in sweep:
            rs = [r for r in runs if r["scenario"] == s["name"]]
            for t in TOOLS:
                tr = [r for r in rs if r["tool"] == t and r.get("rc") == 0]
                if not tr:
                    if any(r["tool"] == t for r in rs):
                        L.append("| %s | %s | FAILED | | | | | | |" % (s.get("concurrency"), TOOL_NAMES[t]))
                    continue
                m = {k: median([r.get(k) for r in tr]) for k in (
                    "server_token_rate", "rep_token_rate", "cpu_us_per_token", "ttft_added_p50_us",
                    "ttft_added_p99_us", "itl_added_p50_us", "server_ttft_p50_us", "server_itl_p50_us",
                    "ttft_added_arrival_p50_us", "ttft_added_arrival_p99_us")}
                # From the request's arrival where the server's record has it (see ROWS).
                if m["ttft_added_arrival_p50_us"] is not None:
                    m["ttft_added_p50_us"] = m["ttft_added_arrival_p50_us"]
                    m["ttft_added_p99_us"] = m["ttft_added_arrival_p99_us"]
                itl_cfg = float(s["itl_ms"]) * 1000
                ttft_cfg = float(s["ttft_ms"]) * 1000
                drift = []
                if m["itl_added_p50_us"] is not None and abs(m["itl_added_p50_us"]) > thr / 100 * itl_cfg:
                    drift.append("ITL")
                if m["ttft_added_p50_us"] is not None and abs(m["ttft_added_p50_us"]) > thr / 100 * ttft_cfg:
                    drift.append("TTFT")
                if m["server_itl_p50_us"] is not None and m["server_itl_p50_us"] > (1 + thr / 100) * itl_cfg:
                    drift.append("server late")
                L.append("| %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s |" % (
                    s.get("concurrency"), TOOL_NAMES[t], fmt(m["server_token_rate"], "%.0f"),
                    fmt(m["rep_token_rate"], "%.0f"), fmt(m["cpu_us_per_token"], "%.2f"),
                    fmt(m["ttft_added_p50_us"], "%.0f"), fmt(m["ttft_added_p99_us"], "%.0f"),
                    fmt(m["itl_added_p50_us"], "%.1f"), fmt(m["server_ttft_p50_us"], "%.0f"),
                    fmt(m["server_itl_p50_us"], "%.1f"), ", ".join(drift) or "no"))
        L.append("")
        L.append("drift: the tool's added ITL p50 beyond %s%% of the configured gap, its added TTFT p50 "
                 "beyond %s%% of the configured TTFT, or the server's own ITL p50 more than %s%% late "
                 "(then the server, not the client, is the limit)." % (thr, thr, thr))
        L.append("")
    L.append("## Commands")
    L.append("")
    for s in scen:
        for t in TOOLS:
            if s.get("cmd_" + t):
                L.append("- %s, %s: `%s`" % (s["name"], TOOL_NAMES[t], s["cmd_" + t]))
    L.append("")
    text = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="sub", required=True)
    b = sub.add_parser("bodies")
    b.add_argument("--count", type=int, required=True)
    b.add_argument("--prompt-words", type=int, default=32)
    b.add_argument("--tokens", type=int, required=True)
    b.add_argument("--model", default="sim-llm")
    b.add_argument("--pa", required=True)
    b.add_argument("--aiperf", required=True)
    b.add_argument("--lines", help="also one compact body per line (the C floor client)")
    m = sub.add_parser("measure")
    m.add_argument("--log", required=True)
    m.add_argument("--scenario", required=True)
    m.add_argument("--tool", choices=TOOLS, required=True)
    m.add_argument("--round", type=int, default=1)
    m.add_argument("--server", required=True)
    m.add_argument("--record", required=True)
    m.add_argument("--ttft-ms", type=float, required=True)
    m.add_argument("--itl-ms", type=float, required=True)
    m.add_argument("--tokens", type=int, required=True)
    m.add_argument("--concurrency", type=int, required=True)
    m.add_argument("--requests", type=int, required=True)
    m.add_argument("--export", required=True)
    m.add_argument("--outdir", required=True)
    m.add_argument("--time-limit-s", type=float, default=600)
    m.add_argument("cmd", nargs=argparse.REMAINDER)
    n = sub.add_parser("note")
    n.add_argument("--log", required=True)
    n.add_argument("--type", required=True)
    n.add_argument("kv", nargs="*")
    r = sub.add_parser("report")
    r.add_argument("--log", required=True)
    r.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.sub == "measure":
        if a.cmd and a.cmd[0] == "--":
            a.cmd = a.cmd[1:]
        cmd_measure(a)
    elif a.sub == "bodies":
        cmd_bodies(a)
    elif a.sub == "note":
        cmd_note(a)
    else:
        cmd_report(a)


if __name__ == "__main__":
    main()
