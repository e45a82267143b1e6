/// The page's script: it reads the report's JSON blob and draws it into SVG, nothing else
/// (every figure was computed in Swift). Written for this report; no library.
/// Each drawn mark carries its figures as data-* attributes, so a test can read the page
/// back and compare it with the console.
enum HTMLPageScript {
    static let text = #"""
"use strict";
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1f6fb2", "#d9534f", "#2e9e5b", "#e69500", "#7b4fb0", "#00a3a3", "#b5487f", "#6b6b6b"];
const report = JSON.parse(document.getElementById("report-data").textContent);

function node(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const key in attrs) e.setAttribute(key, attrs[key]);
  if (parent) parent.appendChild(e);
  return e;
}
function label(parent, x, y, words, attrs) {
  const t = node("text", Object.assign({x: x, y: y}, attrs || {}), parent);
  t.textContent = words;
  return t;
}
function tip(parent, words) { node("title", {}, parent).textContent = words; }
function html(name, attrs, parent, words) {
  const e = document.createElement(name);
  for (const key in attrs) e.setAttribute(key, attrs[key]);
  if (words !== undefined) e.textContent = words;
  if (parent) parent.appendChild(e);
  return e;
}
function short(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toPrecision(3).replace(/\.?0+$/, "") + "M";
  if (a >= 1e4) return (v / 1e3).toPrecision(3).replace(/\.?0+$/, "") + "k";
  if (a >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}
// Round tick values covering [lo, hi].
function ticks(lo, hi, count) {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}
function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) { const v = m * Math.pow(10, e); if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v); }
  }
  return out;
}
// A frame with axes; returns the svg, the plot area and the two scales.
function frame(parent, opts) {
  const W = opts.width || 590, H = opts.height || 300, m = {l: 64, r: 34, t: 28, b: 46};
  const svg = node("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart", "data-chart": opts.chart}, parent);
  label(svg, m.l, 16, opts.title, {class: "chart-title"});
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const xLog = !!opts.xLog, yLog = !!opts.yLog;
  let [x0, x1] = opts.xDomain, [y0, y1] = opts.yDomain;
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  const f = (log, v) => log ? Math.log10(Math.max(v, 1e-9)) : v;
  const sx = v => m.l + (f(xLog, v) - f(xLog, x0)) / (f(xLog, x1) - f(xLog, x0)) * pw;
  const sy = v => m.t + ph - (f(yLog, v) - f(yLog, y0)) / (f(yLog, y1) - f(yLog, y0)) * ph;
  node("rect", {x: m.l, y: m.t, width: pw, height: ph, class: "plot"}, svg);
  const xt = opts.xTicks || (xLog ? logTicks(x0, x1) : ticks(x0, x1, 6));
  for (const v of xt) {
    node("line", {x1: sx(v), x2: sx(v), y1: m.t, y2: m.t + ph, class: "grid"}, svg);
    label(svg, sx(v), m.t + ph + 16, opts.xFormat ? opts.xFormat(v) : short(v), {"text-anchor": "middle", class: "tick"});
  }
  let yt = yLog ? logTicks(y0, y1) : ticks(y0, y1, 5);
  // A narrow log range may hold one round value or none: round linear ticks then.
  if (yLog && yt.length < 3) yt = ticks(y0, y1, 4).filter(v => v > 0);
  for (const v of yt) {
    node("line", {x1: m.l, x2: m.l + pw, y1: sy(v), y2: sy(v), class: "grid"}, svg);
    label(svg, m.l - 6, sy(v) + 4, short(v), {"text-anchor": "end", class: "tick"});
  }
  label(svg, m.l + pw / 2, H - 8, opts.xLabel, {"text-anchor": "middle", class: "axis-label"});
  label(svg, 14, m.t + ph / 2, opts.yLabel, {"text-anchor": "middle", class: "axis-label", transform: `rotate(-90 14 ${m.t + ph / 2})`});
  return {svg, sx, sy, m, pw, ph};
}
function legend(parent, names) {
  const box = html("div", {class: "legend"}, parent);
  names.forEach((name, i) => {
    const item = html("span", {class: "legend-item"}, box);
    html("span", {class: "swatch", style: `background:${COLORS[i % COLORS.length]}`}, item);
    item.appendChild(document.createTextNode(name));
  });
}
function extent(values, fromZero) {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (fromZero) lo = Math.min(0, lo);
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (hi === lo) hi = lo === 0 ? 1 : lo * 1.1;
  return [lo, hi + (hi - lo) * 0.05];
}
// Lines through points; every point a circle carrying `data` as data-* attributes.
function lineChart(container, opts) {
  const parent = html("div", {class: "chart-box"}, container);
  const xs = opts.series.flatMap(s => s.points.map(p => p.x)), ys = opts.series.flatMap(s => s.points.map(p => p.y));
  const xDomain = opts.xDomain || extent(xs, !opts.xLog);
  let yDomain = opts.yDomain || extent(ys.concat(opts.extraY || []), !opts.yLog);
  if (opts.yLog) yDomain = [Math.max(Math.min(...ys) * 0.8, 1e-3), Math.max(...ys) * 1.25];
  const fr = frame(parent, Object.assign({}, opts, {xDomain, yDomain}));
  if (opts.band) {
    const b = opts.band;
    const r = node("rect", {x: fr.m.l, width: fr.pw, y: fr.sy(b.high), height: Math.max(1, fr.sy(b.low) - fr.sy(b.high)), class: "band",
      "data-chart": opts.chart, "data-level": b.level || "", "data-low": b.low, "data-high": b.high}, fr.svg);
    tip(r, `stability band: ${short(b.low)} to ${short(b.high)}`);
  }
  opts.series.forEach((s, i) => {
    const color = s.color || COLORS[i % COLORS.length];
    const g = node("g", {"data-series": s.name}, fr.svg);
    node("polyline", {points: s.points.map(p => `${fr.sx(p.x)},${fr.sy(p.y)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2}, g);
    for (const p of s.points) {
      const attrs = {cx: fr.sx(p.x), cy: fr.sy(p.y), r: p.hollow ? 3.5 : 4, fill: p.hollow ? "white" : color, stroke: color,
        "data-chart": opts.chart, "data-series": s.name, "data-x": p.x, "data-y": p.y};
      for (const key in (p.data || {})) attrs["data-" + key] = p.data[key];
      tip(node("circle", attrs, g), p.tip || `${s.name}: ${short(p.x)}, ${short(p.y)}`);
      if (p.text) label(g, fr.sx(p.x) + 6, fr.sy(p.y) - 6, p.text, {class: "point-label"});
    }
  });
  if (opts.series.length > 1) legend(parent, opts.series.map(s => s.name));
  return fr;
}
// Bars per group: stacked (parts of one whole) or side by side.
function barChart(container, opts) {
  const parent = html("div", {class: "chart-box"}, container);
  const totals = opts.groups.map(g => opts.stacked ? g.bars.reduce((a, b) => a + b.value, 0) : Math.max(0, ...g.bars.map(b => b.value)));
  const names = opts.groups.length ? opts.groups[0].bars.map(b => b.name) : [];
  const fr = frame(parent, Object.assign({}, opts, {xDomain: [0, 1], yDomain: extent(totals, true), xTicks: []}));
  const slot = fr.pw / Math.max(1, opts.groups.length);
  opts.groups.forEach((g, gi) => {
    const x0 = fr.m.l + gi * slot + slot * 0.15, width = slot * 0.7;
    label(fr.svg, x0 + width / 2, fr.m.t + fr.ph + 16, g.label, {"text-anchor": "middle", class: "tick"});
    let base = 0;
    g.bars.forEach((b, bi) => {
      const color = COLORS[bi % COLORS.length];
      const x = opts.stacked ? x0 : x0 + bi * width / g.bars.length, w = opts.stacked ? width : width / g.bars.length;
      const top = fr.sy(base + b.value), bottom = fr.sy(base);
      const attrs = {x, y: top, width: Math.max(1, w - 1), height: Math.max(0, bottom - top), fill: color,
        "data-chart": opts.chart, "data-group": g.label, "data-part": b.name, "data-value": b.value};
      for (const key in (opts.data ? opts.data(g) : {})) attrs["data-" + key] = opts.data(g)[key];
      tip(node("rect", attrs, fr.svg), `${opts.groupName} ${g.label}, ${b.name}: ${b.value} ${opts.unit}`);
      if (opts.stacked) base += b.value;
    });
    if (opts.stacked) label(fr.svg, x0 + width / 2, fr.sy(base) - 4, String(totals[gi]), {"text-anchor": "middle", class: "point-label"});
  });
  legend(parent, names);
}
// A section of the page; its charts go into the returned box, side by side where they fit.
function section(id, heading, note, half) {
  const s = html("section", {id: id, "data-section": id, class: half ? "half" : ""}, document.getElementById("report"));
  html("h2", {}, s, heading);
  if (note) html("p", {class: "note"}, s, note);
  return html("div", {class: "charts"}, s);
}

const levelName = report.mode === "concurrency" ? "Concurrency" : "Request rate";
const tpUnit = report.throughputUnit;
document.getElementById("title").textContent = `perf-analyzer report: ${report.model}`;
document.getElementById("subtitle").textContent =
  `${report.serviceKind} · ${levelName.toLowerCase()} · ${report.levels.length} level${report.levels.length === 1 ? "" : "s"} · from ${report.source === "run" ? "the run" : "a profile export"} · stability ±${report.stabilityPercentage}%`;

// Summary table.
{
  const s = section("summary", "Levels");
  const table = html("table", {}, s);
  const hasSeq = report.levels.some(l => l.sequenceThroughput !== undefined && l.sequenceThroughput !== null);
  const hasHealth = report.levels.some(l => l.health);
  const head = [levelName, "Requests", `Throughput (${tpUnit})`].concat(hasSeq ? ["Sequences/sec"] : []).concat(["Avg (usec)", "p50 (usec)", "p90 (usec)", "p99 (usec)"])
    .concat(hasHealth ? ["Client"] : []);
  const hr = html("tr", {}, html("thead", {}, table));
  head.forEach(h => html("th", {}, hr, h));
  const body = html("tbody", {}, table);
  for (const l of report.levels) {
    const tr = html("tr", {"data-level": l.label, "data-requests": l.requests, "data-throughput": l.throughput, "data-p99": l.p99Us,
      "data-sequences": hasSeq ? l.sequenceThroughput : ""}, body);
    [l.label, l.requests, Number(l.throughput.toPrecision(6))].concat(hasSeq ? [Number((l.sequenceThroughput || 0).toPrecision(6))] : [])
      .concat([l.averageUs, l.p50Us, l.p90Us, l.p99Us]).forEach(v => html("td", {}, tr, String(v)));
    if (hasHealth) {
      // The console's "Client health:" verdict; its figures on hover and, on the row, as data.
      const h = l.health;
      const cell = html("td", h ? {class: h.limited ? "limited" : "healthy"} : {}, tr,
        h ? (h.limited ? `LIMITED (${h.limits.join(", ")})` : "ok") : "");
      if (h) {
        cell.title = h.figures;
        tr.setAttribute("data-client", h.limited ? "limited" : "ok");
        tr.setAttribute("data-client-limits", h.limits.join(";"));
        tr.setAttribute("data-client-figures", h.figures);
      }
    }
  }
  for (const l of report.levels.filter(l => l.health && l.health.advice)) {
    html("p", {class: "warning", "data-client-advice": l.label}, s, `${levelName} ${l.label}: ${l.health.advice}`);
  }
  if (hasHealth) {
    html("p", {class: "note"}, s, "Client: whether this client, not the server, limited the level (its CPU, waiting for a core, the hypervisor's steal, or sends falling behind a schedule). A limited level's figures are the client's limit.");
  }
}

// Throughput against latency, one line per percentile, each point a level.
{
  const s = section("throughput-latency", "Throughput against latency", "Each point is a level, labelled with its " + levelName.toLowerCase() + ".", true);
  const series = [["p50", "p50Us"], ["p90", "p90Us"], ["p99", "p99Us"]].map(([name, key]) => ({
    name, points: report.levels.map(l => ({x: l.throughput, y: l[key], text: name === "p99" ? l.label : undefined,
      data: {level: l.label, throughput: l.throughput, latency: l[key]}, tip: `${levelName} ${l.label}: ${short(l.throughput)} ${tpUnit}, ${name} ${l[key]} usec`}))
  }));
  lineChart(s, {chart: "throughput-latency", title: "Latency (usec) by throughput", xLabel: `Throughput (${tpUnit})`, yLabel: "Latency (usec)", series, width: 590, height: 340});
}

// Percentile spectrum: x is 1 / (1 - percentile) on a log scale, so the tail spreads out.
const nines = p => Math.min(6, -Math.log10(Math.max(1e-6, 1 - p / 100)));
function spectrumChart(parent, chart, title, pick) {
  const levels = report.levels.filter(l => pick(l) && pick(l).length);
  if (!levels.length) return;
  const series = levels.map(l => ({name: `${levelName} ${l.label}`, points: pick(l).map(p => ({x: nines(p.percentile), y: p.latencyUs,
    data: {level: l.label, percentile: p.percentile, latency: p.latencyUs}, tip: `${levelName} ${l.label}: p${p.percentile} ${p.latencyUs} usec`}))}));
  const fmt = v => v === 0 ? "0%" : (100 - Math.pow(10, 2 - v)).toFixed(Math.max(0, v - 2)) + "%";
  lineChart(parent, {chart, title, xLabel: "Percentile (log scale of 1 / (1 - p))", yLabel: "Latency (usec, log)", series, xDomain: [0, 6],
    xTicks: [0, 1, 2, 3, 4, 5, 6], xFormat: fmt, yLog: true, width: 590, height: 340});
}
{
  const s = section("spectrum", "Latency percentile spectrum", "From each level's HDR histogram of latencies.", true);
  spectrumChart(s, "spectrum", "Latency by percentile, per level", l => l.spectrum);
}

// Window timeline with the stability band.
{
  const s = section("timeline", "Measurement windows",
    `Each window of each level; filled points are the windows the level's result merges, the band is ±${report.stabilityPercentage}% around their mean.`);
  const grid = html("div", {class: "timeline-grid"}, s);
  for (const l of report.levels) {
    if (!l.windows.length) continue;
    const cell = html("div", {class: "cell", "data-level": l.label}, grid);
    const pts = key => l.windows.map(w => ({x: w.trial, y: w[key], hollow: !w.merged, data: {level: l.label, trial: w.trial, merged: w.merged}}));
    const trials = l.windows.map(w => w.trial);
    const xt = trials.length <= 10 ? trials : undefined;
    lineChart(cell, {chart: "timeline-throughput", title: `${levelName} ${l.label}: throughput`, xLabel: "Window", yLabel: tpUnit, xTicks: xt,
      series: [{name: "throughput", points: pts("throughput")}], band: l.band ? {low: l.band.throughputLow, high: l.band.throughputHigh, level: l.label} : null,
      extraY: l.band ? [l.band.throughputLow, l.band.throughputHigh] : [], xDomain: [Math.min(...trials) - 0.5, Math.max(...trials) + 0.5], width: 296, height: 200});
    lineChart(cell, {chart: "timeline-latency", title: `${levelName} ${l.label}: ${report.stabilizingLatency} latency`, xLabel: "Window", yLabel: "usec", xTicks: xt,
      series: [{name: "latency", color: COLORS[1], points: pts("latencyUs")}], band: l.band ? {low: l.band.latencyLowUs, high: l.band.latencyHighUs, level: l.label} : null,
      extraY: l.band ? [l.band.latencyLowUs, l.band.latencyHighUs] : [], xDomain: [Math.min(...trials) - 0.5, Math.max(...trials) + 0.5], width: 296, height: 200});
  }
}

// Server-side breakdown.
if (report.levels.some(l => l.server)) {
  const s = section("server", "Server-side time per request", "Average time of a request inside the server, from its statistics, split as the console splits it.", true);
  const levels = report.levels.filter(l => l.server);
  barChart(s, {chart: "server", title: "Server time per request (usec)", yLabel: "usec", unit: "usec", groupName: levelName, stacked: true, width: 590, height: 300,
    groups: levels.map(l => ({label: l.label, bars: l.server.parts.map(p => ({name: p.name, value: p.us}))})),
    data: g => ({level: g.label, request: report.levels.find(l => l.label === g.label).server.requestUs})});
}

// Scheduled loads: send lag and latency from the intended send time.
if (report.levels.some(l => l.schedule)) {
  const s = section("schedule", "Keeping to the schedule",
    "How late each send left after its intended time, and latency counted from the intended send time (which includes any wait in the client).");
  const levels = report.levels.filter(l => l.schedule);
  barChart(s, {chart: "send-lag", title: "Send lag (usec)", yLabel: "usec", unit: "usec", groupName: levelName, width: 590, height: 300,
    groups: levels.map(l => ({label: l.label, bars: [["p50", l.schedule.sendLagP50Us], ["p99", l.schedule.sendLagP99Us], ["max", l.schedule.sendLagMaxUs]].map(([name, value]) => ({name, value}))})),
    data: g => ({level: g.label})});
  barChart(s, {chart: "from-intended", title: "Latency from the send and from the intended send time (usec)", yLabel: "usec", unit: "usec",
    groupName: levelName, width: 590, height: 300,
    groups: levels.map(l => ({label: l.label, bars: [["p50 from send", l.p50Us], ["p50 from intended", l.schedule.fromIntendedP50Us],
      ["p90 from send", l.p90Us], ["p90 from intended", l.schedule.fromIntendedP90Us], ["p99 from send", l.p99Us], ["p99 from intended", l.schedule.fromIntendedP99Us]].map(([name, value]) => ({name, value}))})),
    data: g => ({level: g.label})});
  spectrumChart(s, "spectrum-from-intended", "Latency from the intended send time by percentile", l => l.schedule ? l.schedule.fromIntendedSpectrum : null);
}

// LLM token metrics.
if (report.levels.some(l => l.tokens)) {
  const s = section("tokens", "Tokens", "Time to first token, inter-token latency and output token throughput per level.");
  const levels = report.levels.filter(l => l.tokens);
  const three = (a, b, c) => [["p50", a], ["p90", b], ["p99", c]].map(([name, value]) => ({name, value}));
  if (levels.some(l => l.tokens.streamedRequests > 0)) {
    barChart(s, {chart: "ttft", title: "Time to first token (usec)", yLabel: "usec", unit: "usec", groupName: levelName, width: 590, height: 280,
      groups: levels.map(l => ({label: l.label, bars: three(l.tokens.ttftP50Us, l.tokens.ttftP90Us, l.tokens.ttftP99Us)})), data: g => ({level: g.label})});
    barChart(s, {chart: "itl", title: "Inter-token latency (usec)", yLabel: "usec", unit: "usec", groupName: levelName, width: 590, height: 280,
      groups: levels.map(l => ({label: l.label, bars: three(l.tokens.itlP50Us, l.tokens.itlP90Us, l.tokens.itlP99Us)})), data: g => ({level: g.label})});
  }
  barChart(s, {chart: "token-throughput", title: "Output token throughput (tokens/sec)", yLabel: "tokens/sec", unit: "tokens/sec", groupName: levelName, width: 590, height: 280,
    groups: levels.map(l => ({label: l.label, bars: [{name: "output tokens/sec", value: l.tokens.outputTokensPerSecond}]})), data: g => ({level: g.label})});
}
document.body.setAttribute("data-drawn", "true");
"""#
}
