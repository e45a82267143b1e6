import Foundation

/// What the profiler reads of the machine at each window cut, for the client's health: the
/// machine's CPU counters (steal) and how long this process's threads have waited, runnable,
/// for a core (other processes, or too few cores, starving the client).
public struct MachineSample: Sendable, Equatable {
    public var ticks: CPUTicks?
    /// Summed over the process's threads, ns; nil where the kernel does not keep it.
    public var runQueueWaitNs: UInt64?

    public init(ticks: CPUTicks?, runQueueWaitNs: UInt64?) {
        self.ticks = ticks
        self.runQueueWaitNs = runQueueWaitNs
    }

    public static func read() -> MachineSample {
        MachineSample(ticks: CPUTicks.read(), runQueueWaitNs: runQueueWait())
    }

    /// The second field of each `/proc/self/task/<tid>/schedstat`: time spent waiting on a run
    /// queue. Threads that ended since the last read drop out, so a level's figure can only be
    /// smaller than the truth.
    static func runQueueWait() -> UInt64? {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        var total: UInt64 = 0
        var read = false
        for thread in threads {
            guard let text = try? String(contentsOfFile: "/proc/self/task/\(thread)/schedstat", encoding: .utf8) else { continue }
            let fields = text.split(separator: " ")
            guard fields.count >= 2, let wait = UInt64(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            total &+= wait
            read = true
        }
        return read ? total : nil
    }
}
