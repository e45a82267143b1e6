/// The figures of one window that stability is judged on.
public struct WindowFigures: Sendable, Equatable {
    public var throughput: Double
    /// Average latency, or the `--percentile` latency, in ns.
    public var latencyNs: UInt64

    public init(throughput: Double, latencyNs: UInt64) {
        self.throughput = throughput
        self.latencyNs = latencyNs
    }
}

/// perf_analyzer's stability rule: over the last three windows, the largest value is at most
/// (1 + threshold) times the smallest, for throughput and for latency.
public enum Stability {
    public static let windowCount = 3

    public static func isStable(_ windows: [WindowFigures], threshold: Double, checkLatency: Bool = true) -> Bool {
        guard windows.count >= windowCount else { return false }
        let recent = windows.suffix(windowCount)
        guard recent.allSatisfy({ $0.throughput > 0 }) else { return false }
        let throughputs = recent.map(\.throughput)
        guard throughputs.max()! / throughputs.min()! <= 1 + threshold else { return false }
        guard checkLatency else { return true }
        let latencies = recent.map { Double($0.latencyNs) }
        guard latencies.min()! > 0 else { return false }
        return latencies.max()! / latencies.min()! <= 1 + threshold
    }

    /// How far apart the last three windows are: max / min - 1 of throughput and of latency;
    /// nil until there are three (or a figure is 0).
    public static func spread(_ windows: [WindowFigures]) -> (throughput: Double, latency: Double)? {
        guard windows.count >= windowCount else { return nil }
        let recent = windows.suffix(windowCount)
        let throughputs = recent.map(\.throughput)
        let latencies = recent.map { Double($0.latencyNs) }
        guard throughputs.min()! > 0, latencies.min()! > 0 else { return nil }
        return (throughputs.max()! / throughputs.min()! - 1, latencies.max()! / latencies.min()! - 1)
    }

    /// True when any of the last three windows reached the latency limit (`-l`, ms; 0 = none).
    public static func reachedLatencyLimit(_ windows: [WindowFigures], limitMs: UInt64) -> Bool {
        guard limitMs > 0 else { return false }
        return windows.suffix(windowCount).contains { $0.latencyNs >= limitMs * 1_000_000 }
    }
}

/// The concurrency levels a sweep visits. Linear sweeps are driven level by level because
/// whether to go on depends on the last result; binary search likewise.
public enum ConcurrencySearch {
    /// Next level of a linear sweep, or nil when done.
    public static func nextLinear(after level: Int, range: ConcurrencyRange, metThreshold: Bool) -> Int? {
        guard metThreshold else { return nil }
        let (next, overflow) = level.addingReportingOverflow(range.step)
        guard !overflow else { return nil }
        return (range.isOpenEnded || next <= range.end) ? next : nil
    }

    /// Binary search between `range.start` and `range.end` for the highest level under the latency limit.
    /// `measure` answers whether a level met the threshold (and was stable).
    public static func binary(range: ConcurrencyRange, measure: (Int) async throws -> Bool) async rethrows {
        try await Bisection.search(from: range.start, to: range.end, step: range.step, middle: { ($0 + $1) / 2 }, measure: measure)
    }
}

/// The levels a run measures.
public enum LevelSweep: Sendable, Equatable {
    case concurrency(ConcurrencyRange)
    case requestRate(RequestRateRange)
    /// One level only (`--request-intervals`).
    case single(LoadLevel)

    public init(_ mode: LoadMode, concurrency: ConcurrencyRange) {
        switch mode {
        case .concurrency: self = .concurrency(concurrency)
        case .requestRate(let range, _): self = .requestRate(range)
        case .requestIntervals(_, let gaps): self = .single(.requestRate(RequestIntervalsFile.averageRate(gapsNs: gaps)))
        // perf_analyzer reports a fixed schedule as request rate 0.
        case .fixedSchedule: self = .single(.requestRate(0))
        }
    }
}

/// The request-rate sweeps: the same walks as concurrency, over rates.
public enum RateSearch {
    /// The rate after `index` levels of a linear sweep (computed from the index, so steps
    /// like 0.1 do not gather rounding error), or nil when done.
    public static func nextLinear(index: Int, range: RequestRateRange, metThreshold: Bool) -> Double? {
        guard metThreshold else { return nil }
        let next = range.start + Double(index) * range.step
        guard next.isFinite else { return nil }
        // A hair of tolerance, so 0.1:0.3:0.1 ends on 0.3 and not just before it.
        return (range.isOpenEnded || next <= range.end * (1 + 1e-9)) ? next : nil
    }

    /// Binary search between the ends of the range for the highest rate under the latency limit.
    public static func binary(range: RequestRateRange, measure: (Double) async throws -> Bool) async rethrows {
        try await Bisection.search(from: range.start, to: range.end, step: range.step, middle: { ($0 + $1) / 2 }, measure: measure)
    }
}

/// perf_analyzer's binary search over levels: measure both ends, then halve the gap between
/// the highest level that met the limit and the lowest that did not, until it is one step.
enum Bisection {
    static func search<Level: Numeric & Comparable>(from start: Level, to end: Level, step: Level, middle: (Level, Level) -> Level,
                                                    measure: (Level) async throws -> Bool) async rethrows {
        guard try await measure(start) else { return }
        guard try await !measure(end) else { return }
        var low = start
        var high = end
        while high - low > step {
            let next = middle(low, high)
            if try await measure(next) { low = next } else { high = next }
        }
    }
}
