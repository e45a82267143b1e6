import Foundation

/// The ranges numeric flags must fall in, so that no value the parser accepts can overflow
/// a computation later (milliseconds turned into nanoseconds, sizes multiplied together)
/// or ask for more than the process can hold.
enum NumericBounds {
    /// Longest duration a millisecond flag may name: one day, so that nanoseconds (and sums
    /// of them) stay far inside 64 bits.
    static let maxMilliseconds = 86_400_000
    /// Most requests a count flag may name.
    static let maxRequestCount = Int(UInt32.max)
    /// Largest body one request may carry: HTTP servers and gRPC's 32-bit message length
    /// both stop near 2 GiB.
    static let maxRequestBytes = Int(Int32.max)
    /// Slowest request rate: one request a day (the schedule's offsets then stay in range).
    static let minRequestRate = 1.0 / 86_400
    /// Descriptors kept back from the open-file limit for everything that is not a load
    /// connection (files, control connections, the event loops' own).
    static let reservedDescriptors = 64

    /// Checks `value` against `range`, naming the flag and the expected range.
    static func check<Value: Comparable>(_ value: Value, in range: ClosedRange<Value>, flag: String,
                                         expected: String) throws(OptionError) {
        guard range.contains(value) else { throw OptionError("\(flag) \(value): expected \(expected)") }
    }

    /// Most load connections this process can hold open: the open-file limit less a reserve.
    /// The soft limit is raised to the hard one first, as servers and load tools commonly do.
    static func connectionLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 - reservedDescriptors }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let usable = UInt64(limit.rlim_cur)  // unlimited reads as the largest value
        return max(1, Int(min(usable, UInt64(Int32.max))) - reservedDescriptors)
    }
}
