import Foundation

/// The CPU time this process has used, user and system together, in ns: the client's own
/// cost, which the profiler samples at every window cut so each level can say what a
/// request cost the machine sending it (perf_analyzer#326 asks for it). One `getrusage`
/// call per window; the load's event loops never make it.
enum ProcessCPUTime {
    static func nowNs() -> UInt64 {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func ns(_ time: timeval) -> UInt64 { UInt64(max(0, time.tv_sec)) * 1_000_000_000 + UInt64(max(0, time.tv_usec)) * 1000 }
        return ns(usage.ru_utime) + ns(usage.ru_stime)
    }
}
