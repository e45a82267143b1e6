#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time used so far, user and system together, in nanoseconds. Neither is read on the
/// send/receive path: an event loop reads its own thread's at each window cut (what it used
/// over the window is the client's work there, the rest it waited: `-v`'s client overhead),
/// and the profiler reads the process's once per window (a level's client CPU per request,
/// which perf_analyzer#326 asks for).
enum CPUClock {
    /// The calling thread's.
    static func threadNs() -> UInt64 { read(CLOCK_THREAD_CPUTIME_ID) }

    /// The whole process's, every thread together.
    static func processNs() -> UInt64 { read(CLOCK_PROCESS_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
