#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KServeProtocol

/// How late this machine wakes a thread that asked to sleep: measured once before any load,
/// so a level's send lag can be judged against what the machine itself allows (on a VM a
/// timer wake-up is often 50-100 µs late; a lag of that size is the machine, not a slip).
public struct TimerFloor: Sendable, Equatable {
    /// Overshoot of a short sleep, median and 99th percentile, ns.
    public var p50Ns: UInt64
    public var p99Ns: UInt64

    public init(p50Ns: UInt64, p99Ns: UInt64) {
        self.p50Ns = p50Ns
        self.p99Ns = p99Ns
    }

    /// Sleeps `samples` times for `sleepNs` and keeps how much later than asked each woke
    /// (about 10 ms with the defaults).
    public static func measure(samples: Int = 64, sleepNs: UInt64 = 100_000) -> TimerFloor {
        var overshoots: [UInt64] = []
        overshoots.reserveCapacity(samples)
        for _ in 0..<samples {
            let start = MonotonicClock.now()
            var request = timespec(tv_sec: 0, tv_nsec: Int(sleepNs))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
            let slept = MonotonicClock.now() &- start
            overshoots.append(slept > sleepNs ? slept - sleepNs : 0)
        }
        overshoots.sort()
        func at(_ fraction: Double) -> UInt64 { overshoots[min(overshoots.count - 1, Int(Double(overshoots.count) * fraction))] }
        return TimerFloor(p50Ns: at(0.5), p99Ns: at(0.99))
    }
}
