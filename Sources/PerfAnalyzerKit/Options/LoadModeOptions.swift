/// How load is generated: a fixed number of requests in flight, a rate, or a list of gaps.
public enum LoadMode: Sendable, Equatable {
    /// `--concurrency-range` (the default).
    case concurrency
    /// `--request-rate-range` with `--request-distribution`.
    case requestRate(RequestRateRange, RequestDistribution)
    /// `--request-intervals FILE`: the gaps between sends, in order, looped.
    case requestIntervals(path: String, gapsNs: [UInt64])
    /// `--fixed-schedule`: each request of the input data at its own `timestamp`, once through.
    case fixedSchedule

    /// Whether sends follow a schedule (request rate or intervals) rather than answers.
    public var isScheduled: Bool { self != .concurrency }
}

/// `--request-rate-range start:end:step` in requests per second. `end == 0` grows by `step`
/// until the latency threshold is crossed.
public struct RequestRateRange: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var step: Double

    public init(start: Double, end: Double, step: Double) {
        self.start = start
        self.end = end
        self.step = step
    }

    public var isOpenEnded: Bool { end == 0 }
}

/// `--request-distribution`.
public enum RequestDistribution: String, Sendable, Equatable, CaseIterable {
    case constant
    case poisson
}

/// Everything about sequence models the command line sets.
public struct SequenceOptions: Sendable, Equatable {
    /// Sequences in flight at once in request-rate and interval modes (`--num-of-sequences`).
    public var concurrentSequences = 4
    /// `--sequence-length`; nil when not given (JSON streams then set each sequence's length).
    public var length: Int? = nil
    /// `--sequence-length-variation`, percent either way.
    public var lengthVariationPercent: Double = 20
    /// `--sequence-id-range start[:end]`; end is exclusive, nil means unbounded.
    public var idStart: UInt64 = 1
    public var idEnd: UInt64? = nil
    /// `--serial-sequences`: at most one request of a sequence in flight.
    public var serial = false

    public init() {}

    public static let defaultLength = 20

    /// How many IDs the range holds.
    public var idCount: UInt64 { idEnd.map { $0 - idStart } ?? (UInt64.max - idStart) }
}

extension RangeParser {
    /// `--request-rate-range start[:end[:step]]`, floating point.
    public static func requestRate(_ text: String, flag: String = "--request-rate-range") throws(ParseError) -> RequestRateRange {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else {
            throw ParseError(description: "\(flag) \(text): expected start[:end[:step]]")
        }
        var numbers: [Double] = []
        for part in parts {
            guard let number = Double(part), number.isFinite, number >= 0 else {
                throw ParseError(description: "\(flag) \(text): '\(part)' is not a number >= 0")
            }
            numbers.append(number)
        }
        let start = numbers[0]
        let end = numbers.count > 1 ? numbers[1] : start
        let step = numbers.count > 2 ? numbers[2] : 1
        guard start > 0 else { throw ParseError(description: "\(flag) \(text): the start rate must be > 0 requests per second") }
        // Slower than this, the gap between two sends is longer than a day and the schedule's
        // nanosecond offsets would leave the clock's range.
        guard start >= NumericBounds.minRequestRate else {
            throw ParseError(description: "\(flag) \(text): a rate of \(formatG(start)) requests per second is one request every \(formatG(1 / start)) seconds; the slowest rate is one a day (\(formatG(NumericBounds.minRequestRate)))")
        }
        guard step > 0 else { throw ParseError(description: "\(flag) \(text): the step must be > 0") }
        guard end == 0 || end >= start else {
            throw ParseError(description: "\(flag) \(text): the end (\(formatG(end))) is below the start (\(formatG(start))); use end 0 to grow until -l is reached")
        }
        return RequestRateRange(start: start, end: end, step: step)
    }

    /// `--sequence-id-range start[:end]`: IDs from start up to, not including, end.
    public static func sequenceIDs(_ text: String, flag: String = "--sequence-id-range") throws(ParseError) -> (start: UInt64, end: UInt64?) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else {
            throw ParseError(description: "\(flag) \(text): expected start or start:end")
        }
        guard let start = UInt64(parts[0]), start > 0 else {
            throw ParseError(description: "\(flag) \(text): the start '\(parts[0])' is not a whole number > 0 (0 is not a valid correlation ID)")
        }
        guard parts.count == 2 else { return (start, nil) }
        guard let end = UInt64(parts[1]) else {
            throw ParseError(description: "\(flag) \(text): the end '\(parts[1])' is not a whole number")
        }
        guard end > start else {
            throw ParseError(description: "\(flag) \(text): the end (\(end), not included) must be above the start (\(start))")
        }
        return (start, end)
    }
}
