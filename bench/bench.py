#!/usr/bin/env python3
"""Helper for bench/run.sh: runs one client measurement and writes the report.

Subcommands (all append to / read from one JSON-lines log file):

  bench.py measure --log LOG --scenario S --tool ours|theirs --pair I
                   --requests N --mem-limit-mb M --outdir DIR -- CMD...
      Runs CMD under `/usr/bin/time -f '%e %U %S %M'` with a memory watchdog
      (SIGKILL once the client's resident set exceeds M MiB), parses the
      console output (Throughput / Avg latency / p99 latency / Request count)
      and appends one {"type": "run", ...} record to LOG. An argument that is
      exactly @CSV@ is replaced by this run's CSV path (for `-f`). Request-rate
      scenarios add --rate R (target rate: parses "Avg send request rate", the
      "Send lag" line and our --verbose-csv schedule columns) and --capture-port P
      (captures the loopback segments to the server's port P with tcpdump during
      the run, kept next to the run's output, and checks the gaps between the
      requests' segments with poisson_gaps.py).

  bench.py note --log LOG --type T key=value...
      Appends {"type": T, key: value, ...} to LOG (scenario descriptions,
      machine facts, load averages).

  bench.py warmup --url HOST:PORT [--model M] [--count N]
      Sends N unmeasured JSON infer requests to a freshly started server.

  bench.py report --log LOG --out FILE
      Prints the markdown report (medians per tool, ratios ours/theirs,
      targets) and writes it to FILE.

Only the Python standard library is used.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time

TIME_FORMAT = "%e %U %S %M"
POLL_SECONDS = 0.2

# ---------------------------------------------------------------------------
# measure
# ---------------------------------------------------------------------------

PATTERNS = {
    # Only the client section has these exact labels; the server section uses
    # "Avg request latency" and has no Throughput / p99 line.
    "throughput": re.compile(r"^\s*Throughput:\s*([0-9.eE+-]+)\s*infer/sec", re.M),
    "avg_latency_us": re.compile(r"^\s*Avg latency:\s*([0-9.eE+-]+)\s*usec", re.M),
    "p99_latency_us": re.compile(r"^\s*p99 latency:\s*([0-9.eE+-]+)\s*usec", re.M),
    "request_count": re.compile(r"^\s*Request count:\s*([0-9]+)", re.M),
    # perf_analyzer and ours print this only when they could not keep up.
    "send_rate": re.compile(r"^\s*Avg send request rate:\s*([0-9.eE+-]+)\s*infer/sec", re.M),
}
# Ours only: "    Send lag: p50 A usec, p99 B usec, max C usec (D of E sends more than 1 msec late)"
SEND_LAG = re.compile(r"^\s*Send lag: p50 ([0-9]+) usec, p99 ([0-9]+) usec, max ([0-9]+) usec "
                      r"\(([0-9]+) of ([0-9]+) sends", re.M)
# Our --verbose-csv columns of request-rate runs (microseconds) -> record keys.
CSV_SCHEDULE_COLUMNS = {
    "Send Lag p50": "send_lag_p50_us",
    "Send Lag p99": "send_lag_p99_us",
    "Send Lag Max": "send_lag_max_us",
    "p50 latency from intended send": "intended_p50_us",
    "p99 latency from intended send": "intended_p99_us",
}


def rss_kib(pid):
    """Resident set of one process in KiB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return 0


def descendants(pid):
    """All descendant pids of pid (via /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def cpu_ticks(pids):
    """{pid: utime+stime clock ticks} for the given pids and their descendants."""
    out = {}
    for root in pids:
        for pid in [root] + descendants(root):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[pid] = int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
    return out


def steal_ticks():
    """Clock ticks the hypervisor kept all vCPUs from running (the `steal` column of /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) if fields[0] == "cpu" and len(fields) > 8 else None
    except (OSError, ValueError):
        return None


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def read_csv_rows(path):
    """The rows of a perf_analyzer-style CSV as dicts (header -> cell); [] when absent."""
    import csv
    try:
        with open(path, newline="", errors="replace") as f:
            rows = list(csv.reader(f))
    except OSError:
        return []
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    return [dict(zip(header, r)) for r in rows[1:] if r and any(c.strip() for c in r)]


def rate_figures(rec, text, csv_path, rate):
    """Request-rate figures from the console text and the --verbose-csv file."""
    rec["target_rate"] = rate
    if isinstance(rec.get("throughput"), (int, float)) and rate:
        rec["rate_ratio"] = rec["throughput"] / rate
    m = SEND_LAG.search(text)
    if m:
        rec["console_send_lag_p99_us"] = int(m.group(2))
        rec["late_sends"] = int(m.group(4))
        rec["sends"] = int(m.group(5))
        if rec["sends"]:
            rec["late_sends_pct"] = 100.0 * rec["late_sends"] / rec["sends"]
    rows = read_csv_rows(csv_path) if csv_path else []
    if rows:
        # One level per run here; take the first data row.
        row = rows[0]
        for col, key in CSV_SCHEDULE_COLUMNS.items():
            try:
                rec[key] = float(row[col])
            except (KeyError, ValueError):
                pass
        try:
            rec["csv_throughput"] = float(row.get("Inferences/Second", ""))
        except ValueError:
            pass


def start_capture(path, port):
    """Starts tcpdump on the loopback interface for segments to `port`, and waits until it listens."""
    err_path = path + ".log"
    err = open(err_path, "wb")
    proc = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-s", "128", "-B", "16384",
                             "--time-stamp-precision=nano", "-w", path, f"tcp dst port {port}"],
                            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    for _ in range(100):
        if "listening on" in tail(err_path, 5) or proc.poll() is not None:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        sys.exit(f"bench.py: tcpdump did not start: {tail(err_path, 5).strip()}")
    return {"proc": proc, "path": path, "err": err}


def stop_capture(capture):
    """Stops tcpdump (SIGINT flushes its file) and waits for it."""
    capture["proc"].send_signal(signal.SIGINT)
    try:
        capture["proc"].wait(timeout=10)
    except subprocess.TimeoutExpired:
        capture["proc"].kill()
        capture["proc"].wait()
    capture["err"].close()


def cmd_measure(a):
    cmd = a.cmd
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        sys.exit("bench.py measure: no command given")
    os.makedirs(a.outdir, exist_ok=True)
    stem = os.path.join(a.outdir, f"{a.scenario}-{a.pair}-{a.tool}")
    out_path, err_path, time_path = stem + ".out", stem + ".err", stem + ".time"
    csv_path = None
    if "@CSV@" in cmd:
        csv_path = stem + ".csv"
        cmd = [csv_path if c == "@CSV@" else c for c in cmd]
        try:
            os.unlink(csv_path)
        except FileNotFoundError:
            pass
    capture = None
    if a.capture_port:
        capture = start_capture(stem + ".pcap", a.capture_port)
    limit_kib = a.mem_limit_mb * 1024
    time_limit = a.time_limit_s if a.time_limit_s > 0 else None

    full = ["/usr/bin/time", "-f", TIME_FORMAT, "-o", time_path] + cmd
    server_before = cpu_ticks(a.server_pid)
    steal_before = steal_ticks()
    started = time.time()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        stopped = None  # None, "memory" or "time"
        watch_peak_kib = 0
        while proc.poll() is None:
            total = 0
            for pid in descendants(proc.pid):
                r = rss_kib(pid)
                if r:
                    total += r
            watch_peak_kib = max(watch_peak_kib, total)
            if not stopped and total > limit_kib:
                stopped = "memory"
            elif not stopped and time_limit and time.time() - started > time_limit:
                stopped = "time"
            if stopped:
                for pid in descendants(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            time.sleep(POLL_SECONDS)
        rc = proc.returncode
    if capture:
        stop_capture(capture)
    wall_outer = time.time() - started
    steal_after = steal_ticks()
    server_after = cpu_ticks(a.server_pid)
    server_cpu = None
    if a.server_pid:
        hz = os.sysconf("SC_CLK_TCK")
        server_cpu = sum(v - server_before.get(p, 0) for p, v in server_after.items()) / hz

    rec = {
        "type": "run", "scenario": a.scenario, "tool": a.tool, "pair": a.pair,
        "requests": a.requests, "command": shlex.join(cmd), "rc": rc,
        "stopped_by_watchdog": stopped, "mem_limit_mb": a.mem_limit_mb,
        "time_limit_s": a.time_limit_s,
        "watchdog_peak_mb": round(watch_peak_kib / 1024, 1),
        "outer_wall_s": round(wall_outer, 3),
        "stdout_file": out_path, "stderr_file": err_path,
    }
    # /usr/bin/time writes "Command exited with non-zero status N" or
    # "Command terminated by signal N" before the format line.
    time_lines = [l for l in tail(time_path, 5).splitlines() if l.strip()]
    fields = time_lines[-1].split() if time_lines else []
    if len(fields) == 4:
        try:
            rec["wall_s"] = float(fields[0])
            rec["user_s"] = float(fields[1])
            rec["sys_s"] = float(fields[2])
            rec["maxrss_mb"] = round(int(fields[3]) / 1024, 1)
        except ValueError:
            pass
    with open(out_path, errors="replace") as f:
        text = f.read()
    for key, pat in PATTERNS.items():
        m = pat.search(text)
        if m:
            rec[key] = float(m.group(1)) if key != "request_count" else int(m.group(1))
    if a.rate:
        rate_figures(rec, text, csv_path, a.rate)
    if csv_path:
        rec["csv_file"] = csv_path

    problems = []
    if capture:
        from poisson_gaps import analyze
        rec["capture_file"] = capture["path"]
        try:
            g = analyze(capture["path"], a.rate or 0, port=a.capture_port)
        except (OSError, ValueError, ZeroDivisionError) as e:
            g = {"error": f"cannot read the capture: {e}"}
        rec["gap_record_lines"] = g.get("record_lines")
        if "error" in g:
            rec["gap_error"] = g["error"]
            if rc == 0 and not stopped:
                problems.append(f"no inter-arrival gaps: {g['error']}")
        else:
            for k in ("gaps", "mean_gap_us", "mean_ratio", "cv", "ks_d", "ks_d_5pct_critical",
                      "tiny_gaps_pct", "tiny_gaps_expected_pct"):
                rec["gap_" + k] = g[k]
    if stopped == "memory":
        problems.append(f"stopped by the memory watchdog above {a.mem_limit_mb} MiB")
    elif stopped == "time":
        problems.append(f"stopped by the watchdog after {a.time_limit_s} s "
                        f"(RSS then {watch_peak_kib / 1024:.0f} MB)")
    elif rc != 0:
        problems.append(f"exit status {rc}")
    for key in ("throughput", "avg_latency_us", "p99_latency_us", "wall_s"):
        if key not in rec and not stopped and rc == 0:
            problems.append(f"could not parse {key}")
    if a.rate and a.tool == "ours" and rc == 0 and not stopped and "send_lag_p99_us" not in rec:
        problems.append("could not read the send-lag columns of our --verbose-csv file")
    if a.requests and rec.get("request_count") not in (None, a.requests) and rc == 0:
        problems.append(f"Request count {rec['request_count']} != --request-count {a.requests}")
    rec["ok"] = rc == 0 and not stopped and not any(p.startswith("could not") for p in problems)
    rec["problems"] = problems
    if problems:
        rec["stderr_tail"] = tail(err_path, 15)
        rec["stdout_tail"] = tail(out_path, 8)
    if rec.get("user_s") is not None and a.requests:
        rec["cpu_s_per_1k"] = (rec["user_s"] + rec["sys_s"]) / a.requests * 1000
        rec["user_s_per_1k"] = rec["user_s"] / a.requests * 1000
        rec["sys_s_per_1k"] = rec["sys_s"] / a.requests * 1000
    if rec.get("wall_s") and a.requests:
        rec["wall_rate"] = a.requests / rec["wall_s"]
    if rec.get("wall_s") and rec.get("user_s") is not None:
        rec["cpu_cores"] = (rec["user_s"] + rec["sys_s"]) / rec["wall_s"]
    if steal_before is not None and steal_after is not None and wall_outer > 0:
        # Share of the run's vCPU time (all vCPUs) that the hypervisor gave to someone else.
        hz = os.sysconf("SC_CLK_TCK")
        rec["steal_pct"] = 100.0 * (steal_after - steal_before) / hz / (wall_outer * (os.cpu_count() or 1))
    if server_cpu is not None:
        rec["server_cpu_s"] = round(server_cpu, 2)
        if a.requests:
            rec["server_cpu_s_per_1k"] = server_cpu / a.requests * 1000

    with open(a.log, "a") as f:
        f.write(json.dumps(rec) + "\n")

    def g(k, fmt):
        v = rec.get(k)
        return fmt.format(v) if isinstance(v, (int, float)) else "-"
    print(f"  {a.scenario:<11} pair {a.pair} {a.tool:<6} rc={rc} "
          f"thr={g('throughput', '{:.0f}')}/s avg={g('avg_latency_us', '{:.0f}')}us "
          f"p99={g('p99_latency_us', '{:.0f}')}us wall={g('wall_s', '{:.2f}')}s "
          f"user={g('user_s', '{:.2f}')}s sys={g('sys_s', '{:.2f}')}s "
          f"rss={g('maxrss_mb', '{:.1f}')}MB"
          + (f" send={g('send_rate', '{:.0f}')}/s lag p99={g('send_lag_p99_us', '{:.0f}')}us"
             f" max={g('send_lag_max_us', '{:.0f}')}us" if a.rate else "")
          + (f" gaps={g('gap_gaps', '{}')} mean*rate={g('gap_mean_ratio', '{:.4f}')}"
             f" cv={g('gap_cv', '{:.4f}')}" if a.capture_port else "")
          + (" !! " + "; ".join(problems) if problems else ""), file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------
# note
# ---------------------------------------------------------------------------

def cmd_note(a):
    rec = {"type": a.type}
    for kv in a.items:
        k, _, v = kv.partition("=")
        rec[k] = v
    with open(a.log, "a") as f:
        f.write(json.dumps(rec) + "\n")
    return 0


# ---------------------------------------------------------------------------
# warmup
# ---------------------------------------------------------------------------

def cmd_warmup(a):
    """Sends unmeasured identity_fp32 requests over one keep-alive connection,
    so that neither tool's first run pays for the server's warm-up."""
    import http.client
    host, _, port = a.url.rpartition(":")
    body = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16],
                                   "data": [0.0] * 16}]})
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    path = f"/v2/models/{a.model}/infer"
    for _ in range(a.count):
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit(f"bench.py warmup: POST {path} answered {resp.status}")
    conn.close()
    return 0


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

# metric key, label, formatter, target kind
METRICS = [
    ("throughput", "throughput (infer/sec)", "{:.0f}"),
    ("avg_latency_us", "avg latency (usec)", "{:.0f}"),
    ("p99_latency_us", "p99 latency (usec)", "{:.0f}"),
    ("cpu_s_per_1k", "client CPU s / 1000 req (user+sys, incl. start-up)", "{:.3f}"),
    ("maxrss_mb", "peak RSS (MB)", "{:.1f}"),
    ("wall_rate", "requests / wall-clock s (incl. start-up; info)", "{:.0f}"),
    ("server_cpu_s_per_1k", "server CPU s / 1000 req during the run (info)", "{:.3f}"),
]
MEMORY_METRICS = [
    ("maxrss_mb", "peak RSS (MB)", "{:.1f}"),
    ("wall_s", "wall-clock s (info)", "{:.1f}"),
    ("throughput", "throughput (infer/sec)", "{:.0f}"),
    ("avg_latency_us", "avg latency (usec)", "{:.0f}"),
    ("p99_latency_us", "p99 latency (usec)", "{:.0f}"),
    ("cpu_s_per_1k", "client CPU s / 1000 req (user+sys, incl. start-up; info)", "{:.3f}"),
    ("server_cpu_s_per_1k", "server CPU s / 1000 req during the run (info)", "{:.3f}"),
]


# Request-rate scenarios (tool's request-rate mode; only these scenarios' rows appear).
# Rows whose metric no run of the scenario has (e.g. gap rows without a capture,
# CPU per request without fixed work) and that carry no target are left out.
RATE_METRICS = [
    ("throughput", "throughput (infer/sec)", "{:.1f}"),
    ("rate_ratio", "throughput / target rate", "{:.4f}"),
    ("send_rate", "avg send request rate (printed only when behind; infer/sec)", "{:.1f}"),
    ("send_lag_p50_us", "send lag p50 (usec; ours only, --verbose-csv)", "{:.0f}"),
    ("send_lag_p99_us", "send lag p99 (usec; ours only, --verbose-csv)", "{:.0f}"),
    ("send_lag_max_us", "send lag max (usec; ours only, --verbose-csv)", "{:.0f}"),
    ("late_sends_pct", "sends > 1 msec late (%; ours only)", "{:.3f}"),
    ("intended_p99_us", "p99 latency from intended send (usec; ours only)", "{:.0f}"),
    ("avg_latency_us", "avg latency (usec)", "{:.0f}"),
    ("p99_latency_us", "p99 latency (usec)", "{:.0f}"),
    ("gap_mean_ratio", "inter-send gap on the wire: mean × rate", "{:.4f}"),
    ("gap_cv", "inter-send gap on the wire: coefficient of variation", "{:.4f}"),
    ("gap_ks_d", "inter-send gap: KS distance to Exp(rate) (info)", "{:.4f}"),
    ("cpu_s_per_1k", "client CPU s / 1000 req (user+sys, incl. start-up)", "{:.3f}"),
    ("cpu_cores", "client CPU cores: (user+sys) / wall (incl. start-up; info)", "{:.3f}"),
    ("steal_pct", "vCPU steal during the run (% of all vCPU time, /proc/stat; info)", "{:.2f}"),
    ("maxrss_mb", "peak RSS (MB)", "{:.1f}"),
    ("wall_rate", "requests / wall-clock s (incl. start-up; info)", "{:.0f}"),
    ("server_cpu_s_per_1k", "server CPU s / 1000 req during the run (info)", "{:.3f}"),
]


def within(center, tol):
    return lambda r, ours: ours is not None and abs(ours - center) <= tol


# Targets of the request-rate scenarios (issue: request-rate mode).
RATE_TARGETS = {
    # Accuracy: achieved rate within 0.5% of the target, p99 send lag <= 100 us (ours).
    "sim-rate-5000": {
        "rate_ratio": ("ours 1 ± 0.005", within(1.0, 0.005)),
        "send_lag_p99_us": ("ours ≤ 100 usec", lambda r, ours: ours is not None and ours <= 100),
    },
    # Distribution: gaps between our sends, as the wire sees them, exponential (mean and CV within 2%).
    "sim-rate-poisson": {
        "gap_mean_ratio": ("ours 1 ± 0.02", within(1.0, 0.02)),
        "gap_cv": ("ours 1 ± 0.02", within(1.0, 0.02)),
    },
    # CPU at 2000 req/s: ours at most half of perf_analyzer's CPU per request, against a
    # fast server, where both tools keep the rate (against Triton on a small machine
    # perf_analyzer falls behind and sends back to back, which costs it less per request).
    "sim-rate-2000": {
        "cpu_s_per_1k": ("≤ 0.5×", lambda r, ours: r is not None and r <= 0.5),
    },
}


def target_for(scenario, server_kind, metric):
    """(text, predicate(ratio, ours_value)) or None."""
    if "-rate-" in scenario:
        return RATE_TARGETS.get(scenario, {}).get(metric)
    if "-image-" in scenario:
        # Large input with and without shared memory: side by side, no target.
        return None
    conc = scenario.rsplit("-c", 1)[-1] if "-c" in scenario else ""
    fast = server_kind in ("nginx", "sim")
    if scenario.startswith("memory"):
        if metric == "maxrss_mb":
            return ("ours < 100 MB", lambda r, ours: ours is not None and ours < 100)
        return None
    if metric == "throughput" and fast and conc == "8":
        return ("≥ 2×", lambda r, ours: r is not None and r >= 2.0)
    if metric == "avg_latency_us" and fast and conc == "1":
        return ("≤ 0.8×", lambda r, ours: r is not None and r <= 0.8)
    if "-grpc-" in scenario:
        # gRPC (issue 5): at least perf_analyzer's throughput, no more of its CPU per request.
        if metric == "throughput":
            return ("≥ 1×", lambda r, ours: r is not None and r >= 1.0)
        if metric == "cpu_s_per_1k":
            return ("≤ 1×", lambda r, ours: r is not None and r <= 1.0)
        return None
    if metric == "cpu_s_per_1k":
        return ("≤ 0.5×", lambda r, ours: r is not None and r <= 0.5)
    return None


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def fmt(v, f):
    return f.format(v) if isinstance(v, (int, float)) else "—"


def cmd_report(a):
    recs = []
    with open(a.log) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    meta = {}
    for r in recs:
        if r["type"] == "meta":
            meta.update({k: v for k, v in r.items() if k != "type"})
    scenarios = [r for r in recs if r["type"] == "scenario"]
    runs = [r for r in recs if r["type"] == "run"]
    loads = [r for r in recs if r["type"] == "load"]

    L = []
    L.append("# swift-perf-analyzer vs perf_analyzer — benchmark results")
    L.append("")
    L.append(f"- date: {meta.get('date', '?')}")
    L.append(f"- command: `{meta.get('command', '?')}`")
    L.append(f"- machine: {meta.get('nproc', '?')} CPUs ({meta.get('cpu', '?')}), "
             f"kernel {meta.get('kernel', '?')}, {meta.get('os', '?')}")
    if meta.get("free"):
        L.append("- `free -g` at start:")
        L.append("")
        L.append("  ```")
        for fl in meta["free"].splitlines():
            L.append("  " + fl)
        L.append("  ```")
    for ld in loads:
        L.append(f"- load average ({ld.get('when', '?')}): {ld.get('loadavg', '?')}")
    L.append(f"- ours: `{meta.get('ours', '?')}` ({meta.get('ours_version', '?')}; "
             f"{meta.get('ours_build', '')})")
    baseline = meta.get('theirs_version', '').startswith('baseline')
    if baseline:
        L.append(f"- theirs: `{meta.get('theirs', '?')}` ({meta.get('theirs_version')}; another build of ours, "
                 "in perf_analyzer's column: the ratio is after / before)")
    else:
        L.append(f"- theirs: `{meta.get('theirs', '?')}` (perf_analyzer from tritonclient "
                 f"{meta.get('theirs_version', '2.50.0')} wheel)")
    L.append(f"- pairs per scenario: {meta.get('pairs', '?')} (memory scenario: "
             f"{meta.get('memory_pairs', '?')}); runs alternate ours, theirs, ours, theirs, …; "
             "each figure is the median over the runs of that tool")
    if meta.get("pin"):
        L.append(f"- CPU pinning: {meta['pin']}")
    L.append("- CPU per request = (user + sys from `/usr/bin/time`) / `--request-count` "
             "× 1000; both tools do the same fixed work, and the figure includes "
             "process start-up and model discovery")
    if any(s.get("rate") for s in scenarios):
        L.append("- request-rate scenarios (`*-rate-*`): throughput / target rate from the "
                 "`Throughput:` line; send lag and latency from the intended send time from "
                 "our `--verbose-csv` columns (perf_analyzer has none); gaps between sends from "
                 "a tcpdump capture of the loopback segments to the server (`bench/poisson_gaps.py`); a scenario with "
                 "time windows (`-p`) is not fixed work, so it shows CPU cores "
                 "((user+sys) / wall) instead of CPU per request")
    L.append("")

    L.append("## Scenarios")
    L.append("")
    for s in scenarios:
        L.append(f"- **{s['name']}** — {s.get('description', '')}")
    L.append("")

    L.append("## Results")
    L.append("")
    L.append(f"| scenario | metric | ours | {'baseline' if baseline else 'perf_analyzer'} | ratio | target | met? |")
    L.append("|---|---|---|---|---|---|---|")
    failures = []
    summary = []
    for s in scenarios:
        name = s["name"]
        kind = s.get("server_kind", "")
        srun = [r for r in runs if r["scenario"] == name]
        by_tool = {t: [r for r in srun if r["tool"] == t] for t in ("ours", "theirs")}
        status = {}
        for t, rs in by_tool.items():
            if not rs:
                status[t] = "not run"
            elif any(r.get("stopped_by_watchdog") for r in rs):
                status[t] = "stopped"
            elif not all(r.get("ok") for r in rs):
                status[t] = "failed"
            else:
                status[t] = "ok"
            for r in rs:
                if r.get("problems"):
                    failures.append(r)
        if s.get("rate"):
            metrics = [m for m in RATE_METRICS
                       if target_for(name, kind, m[0])
                       or any(isinstance(r.get(m[0]), (int, float)) for r in srun)]
        else:
            metrics = MEMORY_METRICS if name.startswith("memory") else METRICS
        for key, label, f in metrics:
            med = {}
            cell = {}
            for t in ("ours", "theirs"):
                if status[t] == "ok":
                    vals = [r[key] for r in by_tool[t] if isinstance(r.get(key), (int, float))]
                    med[t] = statistics.median(vals) if vals else None
                    cell[t] = fmt(med[t], f)
                elif status[t] == "stopped":
                    med[t] = None
                    stopped = [r for r in by_tool[t] if r.get("stopped_by_watchdog")][0]
                    if key != "maxrss_mb":
                        cell[t] = "—"
                    elif stopped["stopped_by_watchdog"] == "time":
                        cell[t] = (f"≥ {stopped.get('watchdog_peak_mb', 0):.0f} MB "
                                   f"(stopped after {stopped.get('time_limit_s')} s)")
                    else:
                        lim = stopped.get("mem_limit_mb", 0)
                        limtxt = f"{lim / 1024:g} GB" if lim >= 1024 else f"{lim} MB"
                        cell[t] = f"> {limtxt} (stopped)"
                else:
                    med[t] = None
                    cell[t] = status[t].upper()
            ratio = None
            if med.get("ours") is not None and med.get("theirs"):
                ratio = med["ours"] / med["theirs"]
            tg = target_for(name, kind, key)
            if status["theirs"] == "stopped" and key == "maxrss_mb" and med.get("ours") is not None:
                st = [r for r in by_tool["theirs"] if r.get("stopped_by_watchdog")][0]
                bound = (st.get("watchdog_peak_mb") if st["stopped_by_watchdog"] == "time"
                         else st.get("mem_limit_mb")) or 1
                rtxt = "< " + fmt_ratio(med["ours"] / bound)
            else:
                rtxt = fmt_ratio(ratio)
            if tg:
                ok = tg[1](ratio, med.get("ours"))
                met = "yes" if ok else "**no**"
                if status["ours"] != "ok":
                    met = "**no**"
                summary.append((name, label, tg[0], met, rtxt, cell["ours"]))
                L.append(f"| {name} | {label} | {cell['ours']} | {cell['theirs']} | {rtxt} | {tg[0]} | {met} |")
            else:
                L.append(f"| {name} | {label} | {cell['ours']} | {cell['theirs']} | {rtxt} | — | — |")
    L.append("")
    if summary:
        hit = sum(1 for x in summary if x[3] == "yes")
        L.append(f"Targets met: {hit} of {len(summary)}.")
        L.append("")

    L.append("## CPU split (median CPU seconds per 1000 requests)")
    L.append("")
    L.append("| scenario | tool | client user | client sys | client user+sys | server user+sys | wall s (median) |")
    L.append("|---|---|---|---|---|---|---|")
    for s in scenarios:
        name = s["name"]
        for t, label in (("ours", "ours"), ("theirs", "perf_analyzer")):
            rs = [r for r in runs if r["scenario"] == name and r["tool"] == t and r.get("ok")]
            if not rs:
                continue
            def med(k):
                vals = [r[k] for r in rs if isinstance(r.get(k), (int, float))]
                return statistics.median(vals) if vals else None
            L.append(f"| {name} | {label} | {fmt(med('user_s_per_1k'), '{:.3f}')} | "
                     f"{fmt(med('sys_s_per_1k'), '{:.3f}')} | {fmt(med('cpu_s_per_1k'), '{:.3f}')} | "
                     f"{fmt(med('server_cpu_s_per_1k'), '{:.3f}')} | {fmt(med('wall_s'), '{:.2f}')} |")
    L.append("")

    L.append("## Commands")
    L.append("")
    for s in scenarios:
        L.append(f"- {s['name']} (server: {s.get('server', '?')})")
        L.append(f"  - ours: `{s.get('cmd_ours', '?')}`")
        L.append(f"  - perf_analyzer: `{s.get('cmd_theirs', '?')}`")
    L.append("")
    L.append("Each run is wrapped as `/usr/bin/time -f '%e %U %S %M' -o FILE CMD` "
             "(elapsed, user, sys, max RSS KiB) under a memory watchdog.")
    L.append("")

    L.append("## Every run")
    L.append("")
    L.append("| scenario | pair | tool | rc | throughput | avg us | p99 us | requests | wall s | user s | sys s | RSS MB | server CPU s | notes |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        L.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["scenario"], r["pair"], "ours" if r["tool"] == "ours" else "perf_analyzer", r["rc"],
            fmt(r.get("throughput"), "{:.1f}"), fmt(r.get("avg_latency_us"), "{:.0f}"),
            fmt(r.get("p99_latency_us"), "{:.0f}"), fmt(r.get("request_count"), "{}"),
            fmt(r.get("wall_s"), "{:.2f}"), fmt(r.get("user_s"), "{:.2f}"),
            fmt(r.get("sys_s"), "{:.2f}"), fmt(r.get("maxrss_mb"), "{:.1f}"),
            fmt(r.get("server_cpu_s"), "{:.2f}"),
            "; ".join(r.get("problems", [])) or ""))
    L.append("")

    rate_runs = [r for r in runs if r.get("target_rate")]
    if rate_runs:
        L.append("## Request-rate runs")
        L.append("")
        L.append("| scenario | pair | tool | target /s | throughput | send rate | lag p50 us | lag p99 us | "
                 "lag max us | late > 1 ms | from intended p99 us | gaps | gap mean × rate | gap CV | KS D |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rate_runs:
            late = (f"{r['late_sends']} of {r['sends']}" if isinstance(r.get("sends"), int) else "—")
            L.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                r["scenario"], r["pair"], "ours" if r["tool"] == "ours" else "perf_analyzer",
                fmt(r.get("target_rate"), "{:g}"), fmt(r.get("throughput"), "{:.1f}"),
                fmt(r.get("send_rate"), "{:.1f}"), fmt(r.get("send_lag_p50_us"), "{:.0f}"),
                fmt(r.get("send_lag_p99_us"), "{:.0f}"), fmt(r.get("send_lag_max_us"), "{:.0f}"),
                late, fmt(r.get("intended_p99_us"), "{:.0f}"), fmt(r.get("gap_gaps"), "{}"),
                fmt(r.get("gap_mean_ratio"), "{:.4f}"), fmt(r.get("gap_cv"), "{:.4f}"),
                fmt(r.get("gap_ks_d"), "{:.4f}")))
        L.append("")

    if failures:
        L.append("## Failures and anomalies")
        L.append("")
        for r in failures:
            who = "ours" if r["tool"] == "ours" else "perf_analyzer"
            L.append(f"### {r['scenario']} pair {r['pair']} {who}: {'; '.join(r['problems'])}")
            L.append("")
            L.append(f"`{r['command']}`")
            L.append("")
            L.append("stderr tail:")
            L.append("")
            L.append("```")
            L.append((r.get("stderr_tail") or "(empty)").rstrip())
            L.append("```")
            if r.get("stdout_tail"):
                L.append("")
                L.append("stdout tail:")
                L.append("")
                L.append("```")
                L.append(r["stdout_tail"].rstrip())
                L.append("```")
            L.append("")

    text = "\n".join(L) + "\n"
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text)
    sys.stdout.write(text)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="sub", required=True)

    m = sub.add_parser("measure")
    m.add_argument("--log", required=True)
    m.add_argument("--scenario", required=True)
    m.add_argument("--tool", required=True, choices=["ours", "theirs"])
    m.add_argument("--pair", type=int, required=True)
    m.add_argument("--requests", type=int, default=0,
                   help="the --request-count given to the tool (0: not fixed work)")
    m.add_argument("--mem-limit-mb", type=int, default=10240)
    m.add_argument("--time-limit-s", type=int, default=0, help="kill after this many seconds (0: none)")
    m.add_argument("--outdir", required=True)
    m.add_argument("--server-pid", type=int, action="append", default=[],
                   help="server process (with its descendants) whose CPU time to record")
    m.add_argument("--rate", type=float, default=0,
                   help="request-rate scenario: the target rate (requests/s)")
    m.add_argument("--capture-port", type=int,
                   help="capture the loopback segments to this server port with tcpdump and check the gaps between requests")
    m.add_argument("cmd", nargs=argparse.REMAINDER)
    m.set_defaults(func=cmd_measure)

    n = sub.add_parser("note")
    n.add_argument("--log", required=True)
    n.add_argument("--type", required=True)
    n.add_argument("items", nargs="*")
    n.set_defaults(func=cmd_note)

    w = sub.add_parser("warmup")
    w.add_argument("--url", required=True, help="host:port")
    w.add_argument("--model", default="identity_fp32")
    w.add_argument("--count", type=int, default=500)
    w.set_defaults(func=cmd_warmup)

    r = sub.add_parser("report")
    r.add_argument("--log", required=True)
    r.add_argument("--out")
    r.set_defaults(func=cmd_report)

    a = p.parse_args()
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
