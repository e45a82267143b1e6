"""Inter-send gaps of requests against a Poisson process.

The gaps are taken from one of two sources, both outside the client:
- a packet capture on the loopback interface (`tcpdump -i lo -w FILE`, nanosecond
  timestamps preferred): the kernel's timestamp of each TCP segment to the server's
  port whose payload starts a request (`POST `). This is the send time as the wire sees
  it, whatever the server does, and it is the same for every client.
- a `kserve-sim --record FILE` record (one JSON line per inference request) and its
  arrival timestamps, an integer in nanoseconds in the field `time_ns`. These include
  the server's own event loop: while it handles one request (writing the record takes
  tens of µs) the next one waits, so short gaps are stretched.

The gaps between consecutive sends of a Poisson process of rate R are exponential with
mean 1/R and coefficient of variation (standard deviation / mean) 1. The check (issue:
request-rate mode, `--request-distribution poisson`): mean gap × R and CV both within
1 ± TOLERANCE (default 2%).

    bench/poisson_gaps.py FILE --rate 2000 [--port P] [--tolerance 0.02] [--json]

FILE is read as a capture when it starts with a pcap magic number (then --port, the
server's port, is required) and as a kserve-sim record otherwise.

Exit status 0 when both are within the tolerance, 1 when not, 2 when the file has no
usable timestamps.

Also printed, for information: the Kolmogorov-Smirnov distance between the gaps and
the exponential distribution with mean 1/R, and the share of gaps below 10 µs next to
the exponential's own share, 1 - exp(-10 µs × R) (about 2% at 2000/s). With N gaps the
statistical error of the mean is about 1/sqrt(N) and that of the CV about 1/sqrt(N) too
(0.5% at N = 40000).

Only the Python standard library is used; bench/bench.py imports analyze().
"""

import argparse
import json
import math
import struct
import sys

FIELD = "time_ns"

# pcap magic numbers (as read little-endian) -> (byte order, nanosecond timestamps)
PCAP_MAGIC = {0xA1B2C3D4: ("<", False), 0xA1B23C4D: ("<", True),
              0xD4C3B2A1: (">", False), 0x4D3CB2A1: (">", True)}
# Link-layer header lengths of the link types a loopback capture uses.
LINK_HEADER = {0: 4, 1: 14, 113: 16, 276: 20}


def is_pcap(path):
    with open(path, "rb") as f:
        head = f.read(4)
    return len(head) == 4 and struct.unpack("<I", head)[0] in PCAP_MAGIC


def pcap_times(path, port):
    """Timestamps (ns) of the TCP segments to `port` whose payload starts with `POST `."""
    with open(path, "rb") as f:
        data = f.read()
    order, nano = PCAP_MAGIC[struct.unpack("<I", data[:4])[0]]
    link = struct.unpack(order + "I", data[20:24])[0]
    if link not in LINK_HEADER:
        raise ValueError(f"link type {link} of {path} is not one a loopback capture uses")
    l2 = LINK_HEADER[link]
    times, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(order + "IIII", data[off:off + 16])
        packet = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = packet[l2:]
        if len(ip) < 20:
            continue
        if ip[0] >> 4 == 4:
            ihl, proto = (ip[0] & 15) * 4, ip[9]
        elif ip[0] >> 4 == 6:
            ihl, proto = 40, ip[6]
        else:
            continue
        tcp = ip[ihl:]
        if proto != 6 or len(tcp) < 20 or struct.unpack(">H", tcp[2:4])[0] != port:
            continue
        if tcp[(tcp[12] >> 4) * 4:].startswith(b"POST "):
            times.append(sec * 1_000_000_000 + (frac if nano else frac * 1000))
    return times


def record_times(path, field=FIELD, model=None):
    """(timestamps, lines, lines without the field) of a kserve-sim record."""
    times, lines, missing = [], 0, 0
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
    return times, lines, missing


def analyze(path, rate, field=FIELD, model=None, tolerance=0.02, port=None):
    """Gap figures of one capture or record file as a dict; {"error": ...} when there are none."""
    if is_pcap(path):
        if port is None:
            return {"record_lines": 0, "error": f"{path} is a packet capture: give the server's port"}
        times = pcap_times(path, port)
        out = {"record_lines": len(times), "source": "capture", "rate": rate}
        if not times:
            out["error"] = f"no request segments to port {port} in {path}"
            return out
    else:
        times, lines, missing = record_times(path, field, model)
        out = {"record_lines": lines, "source": "record", "field": field, "rate": rate}
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
    p.add_argument("file", help="a loopback packet capture (pcap) or a kserve-sim --record file (JSON lines)")
    p.add_argument("--port", type=int, help="capture: the server's TCP port")
    p.add_argument("--rate", type=float, required=True, help="the requested rate (requests/s)")
    p.add_argument("--tolerance", type=float, default=0.02, help="relative tolerance (default 0.02)")
    p.add_argument("--field", default=FIELD, help=f"timestamp field in ns (default {FIELD})")
    p.add_argument("--model", help="only lines of this model")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    a = p.parse_args()
    r = analyze(a.file, a.rate, field=a.field, model=a.model, tolerance=a.tolerance, port=a.port)
    if a.json:
        print(json.dumps(r))
    elif "error" in r:
        print(f"poisson_gaps: {r['error']}", file=sys.stderr)
    else:
        tol = 100 * a.tolerance
        print(f"requests {r['record_lines']} ({r['source']}), gaps {r['gaps']} over {r['span_s']:.2f} s")
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
