/// `--trace-level`, `--trace-rate`, `--trace-count` and `--log-frequency`: the server's trace
/// settings, sent once through Triton's trace extension before any load (perf_analyzer sends
/// them to the global settings, not the model's). Values travel as the strings the extension
/// takes; the levels as a list.
public struct TraceSettings: Sendable, Equatable {
    /// OFF, TIMESTAMPS or TENSORS; several levels trace several things.
    public var levels: [String] = []
    public var rate: Int? = nil
    /// -1: no limit.
    public var count: Int? = nil
    public var logFrequency: Int? = nil

    public init() {}

    public var isEmpty: Bool { levels.isEmpty && rate == nil && count == nil && logFrequency == nil }

    /// The settings in the extension's names, in a fixed order.
    public var settings: [(name: String, values: [String])] {
        var result: [(String, [String])] = []
        if !levels.isEmpty { result.append(("trace_level", levels)) }
        if let rate { result.append(("trace_rate", [String(rate)])) }
        if let count { result.append(("trace_count", [String(count)])) }
        if let logFrequency { result.append(("log_frequency", [String(logFrequency)])) }
        return result
    }

    static let knownLevels: Set<String> = ["OFF", "TIMESTAMPS", "TENSORS"]

    /// Checks the flags' values; each problem is one line naming its flag.
    init(levels: [String], rate: Int?, count: Int?, logFrequency: Int?) throws(OptionError) {
        for level in levels where !Self.knownLevels.contains(level) {
            throw OptionError("--trace-level \(level): expected OFF, TIMESTAMPS or TENSORS")
        }
        var unique: [String] = []
        for level in levels where !unique.contains(level) { unique.append(level) }
        self.levels = unique
        if let rate {
            try NumericBounds.check(rate, in: 1...Int(Int32.max), flag: "--trace-rate",
                                    expected: "a sampling rate from 1 (every request) to \(Int32.max)")
        }
        if let count {
            try NumericBounds.check(count, in: -1...Int(Int32.max), flag: "--trace-count",
                                    expected: "a number of traces from 0 to \(Int32.max), or -1 for no limit")
        }
        if let logFrequency {
            try NumericBounds.check(logFrequency, in: 0...Int(Int32.max), flag: "--log-frequency",
                                    expected: "a number of traces from 0 (write at shutdown) to \(Int32.max)")
        }
        self.rate = rate
        self.count = count
        self.logFrequency = logFrequency
    }
}
