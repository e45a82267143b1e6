import Foundation

/// The machine's CPU time counters from `/proc/stat` (all CPUs together), read at each window
/// cut: the share of time the hypervisor gave to other guests (steal) over a level says whether
/// the client's cores were really there.
public struct CPUTicks: Sendable, Equatable {
    public var total: UInt64
    public var steal: UInt64

    public init(total: UInt64, steal: UInt64) {
        self.total = total
        self.steal = steal
    }

    /// Now, or nil where `/proc/stat` is missing or unreadable (not Linux).
    public static func read() -> CPUTicks? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return parse(text)
    }

    /// The aggregate `cpu ` line: user nice system idle iowait irq softirq steal [guest guest_nice].
    /// Guest time is already inside user and nice, so it is not added again.
    static func parse(_ text: String) -> CPUTicks? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard fields.count >= 4 else { return nil }
        return CPUTicks(total: fields.reduce(0, +), steal: fields.count >= 8 ? fields[7] : 0)
    }

    /// Steal as a fraction of all CPU time from `earlier` to this; nil when no tick passed.
    public func stealFraction(since earlier: CPUTicks) -> Double? {
        guard total > earlier.total else { return nil }
        return Double(steal &- earlier.steal) / Double(total - earlier.total)
    }
}
