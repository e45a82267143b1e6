#!/usr/bin/env python3
"""Inter-arrival gaps of requests, measured at the server, against a Poisson process.

Reads a `kserve-sim --record FILE` record (one JSON line per inference request, in the
order the server handled them) and takes each line's arrival timestamp, an integer in
nanoseconds in the field `time_ns` (any clock, as long as it does not jump: only
differences are used). The gaps between consecutive arrivals of a Poisson process
of rate R are exponential with mean 1/R and coefficient of variation (standard
deviation / mean) 1. The check (issue: request-rate mode, `--request-distribution
poisson`): mean gap × R and CV both within 1 ± TOLERANCE (default 2%).

    bench/poisson_gaps.py RECORD.jsonl --rate 2000 [--tolerance 0.02] [--json]

Exit status 0 when both are within the tolerance, 1 when not, 2 when the record has
no usable timestamps (e.g. a kserve-sim whose record lines carry no `time_ns`).

Also printed, for information: the Kolmogorov-Smirnov distance between the gaps and
the exponential distribution with mean 1/R, and the share of gaps below 10 µs next to
the exponential's own share, 1 - exp(-10 µs × R) (about 2% at 2000/s; far more means
the server saw several requests in one wake-up and its timestamps say more about its
event loop than about the client, far fewer that the client never sends in bursts).

Server-side timestamps include the network path and the server's event loop, so they
add a little jitter of their own (tens of µs against a 500 µs mean gap at 2000/s; it
raises the CV by well under 1%). With N gaps the statistical error of the mean is
about 1/sqrt(N) and that of the CV about 1/sqrt(N) too (0.5% at N = 40000).

Only the Python standard library is used; bench/bench.py imports analyze().
"""

import argparse
import json
import math
import sys

FIELD = "time_ns"


def analyze(path, rate, field=FIELD, model=None, tolerance=0.02):
    """Gap figures of one record file as a dict; {"error": ...} when there are none."""
    times = []
    lines = 0
    missing = 0
    with open(path, errors="replace") as f:
        for raw in f:
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if model is not None and obj.get("model") != model:
                continue
            lines += 1
            t = obj.get(field)
            if isinstance(t, (int, float)) and not isinstance(t, bool):
                times.append(int(t))
            else:
                missing += 1
    out = {"record_lines": lines, "field": field, "rate": rate}
    if lines == 0:
        out["error"] = f"no request lines in {path}"
        return out
    if missing:
        out["error"] = (f"{missing} of {lines} record lines have no `{field}` field "
                        f"(kserve-sim --record must write an arrival timestamp in ns)")
        return out
    if len(times) < 3:
        out["error"] = f"only {len(times)} timestamps"
        return out
    times.sort()
    gaps = [b - a for a, b in zip(times, times[1:])]
    n = len(gaps)
    mean = sum(gaps) / n
    var = sum((g - mean) ** 2 for g in gaps) / (n - 1)
    sd = math.sqrt(var)
    expected = 1e9 / rate
    cv = sd / mean if mean > 0 else float("nan")
    # Kolmogorov-Smirnov distance to Exp(rate).
    srt = sorted(gaps)
    d = 0.0
    for i, g in enumerate(srt):
        cdf = 1.0 - math.exp(-g / expected)
        d = max(d, abs((i + 1) / n - cdf), abs(cdf - i / n))
    out.update({
        "gaps": n,
        "span_s": (times[-1] - times[0]) / 1e9,
        "mean_gap_us": mean / 1000,
        "expected_gap_us": expected / 1000,
        "mean_ratio": mean / expected,
        "sd_gap_us": sd / 1000,
        "cv": cv,
        "ks_d": d,
        "ks_d_5pct_critical": 1.358 / math.sqrt(n),
        "tiny_gaps_pct": 100.0 * sum(1 for g in gaps if g < 10_000) / n,
        "tiny_gaps_expected_pct": 100.0 * (1.0 - math.exp(-10_000 / expected)),
        "tolerance": tolerance,
    })
    out["mean_ok"] = abs(out["mean_ratio"] - 1) <= tolerance
    out["cv_ok"] = abs(cv - 1) <= tolerance
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("record", help="kserve-sim --record file (JSON lines)")
    p.add_argument("--rate", type=float, required=True, help="the requested rate (requests/s)")
    p.add_argument("--tolerance", type=float, default=0.02, help="relative tolerance (default 0.02)")
    p.add_argument("--field", default=FIELD, help=f"timestamp field in ns (default {FIELD})")
    p.add_argument("--model", help="only lines of this model")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    a = p.parse_args()
    r = analyze(a.record, a.rate, field=a.field, model=a.model, tolerance=a.tolerance)
    if a.json:
        print(json.dumps(r))
    elif "error" in r:
        print(f"poisson_gaps: {r['error']}", file=sys.stderr)
    else:
        tol = 100 * a.tolerance
        print(f"requests {r['record_lines']}, gaps {r['gaps']} over {r['span_s']:.2f} s")
        print(f"mean gap {r['mean_gap_us']:.1f} us vs 1/rate {r['expected_gap_us']:.1f} us: "
              f"ratio {r['mean_ratio']:.4f} ({'within' if r['mean_ok'] else 'OUTSIDE'} ±{tol:g}%)")
        print(f"coefficient of variation {r['cv']:.4f} vs 1 "
              f"({'within' if r['cv_ok'] else 'OUTSIDE'} ±{tol:g}%)")
        print(f"KS distance to Exp(rate) {r['ks_d']:.4f} (5% critical value {r['ks_d_5pct_critical']:.4f}; info); "
              f"gaps < 10 us: {r['tiny_gaps_pct']:.2f}% "
              f"(exponential: {r['tiny_gaps_expected_pct']:.2f}%)")
    if "error" in r:
        return 2
    return 0 if r["mean_ok"] and r["cv_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
