#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Clocks read straight from the kernel (vDSO), shared by the client and the simulator.
public enum MonotonicClock {
    /// Nanoseconds on the monotonic clock: immune to wall-clock steps, comparable across threads.
    @inline(__always)
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// Wall-clock nanoseconds since the epoch: an instant other hosts can place on their clocks.
    public static func epochNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// Wall-clock milliseconds since the epoch (the unit of the statistics' `last_inference`).
    public static func epochMilliseconds() -> UInt64 {
        epochNanoseconds() / 1_000_000
    }
}
