import NIOCore

/// When the bytes an event loop reads arrived, by the loop's wake-up: the first read of a
/// wake-up reads the clock, and every other channel read in that wake-up takes the same time,
/// so the work the loop does between its reads (other channels' messages, sends made at once)
/// is not counted as waiting. A message read in a wake-up was on its way before the loop woke:
/// when it came in one piece (one write of its sender, as nginx's and kserve-sim's small
/// answers and a client's small request are) it was in its socket by then, and the time is
/// never earlier than its arrival. A message whose last piece came while the loop read the
/// others is timed early by at most the time the loop spent before its read. A channel read a
/// second time in one wake-up reads the clock itself.
///
/// The client times HTTP/1.1 answers by it (`HTTPSlot`); kserve-sim times requests' arrival by
/// it (`ArrivalStamp`), so that its record does not count a request's wait behind the others of
/// the same wake-up as the client's.
///
/// Confined to `loop`; one task per wake-up with reads clears the time.
public final class LoopWakeClock: @unchecked Sendable {
    // Internal but inlinable: the client reads it on its hot path, from another module.
    @usableFromInline let loop: EventLoop
    /// The current wake-up's time; 0 between wake-ups.
    @exclusivity(unchecked) @usableFromInline var wakeNs: UInt64 = 0
    /// Counts wake-ups, so a channel can tell its second read in one.
    @exclusivity(unchecked) @usableFromInline var wakeCount: UInt64 = 1
    /// Made once: scheduling it allocates no closure.
    @exclusivity(unchecked) @usableFromInline var close: (@Sendable () -> Void)?

    public init(loop: EventLoop) {
        self.loop = loop
        // Weak: a wake-up's task may run after the run let the clock go.
        close = { [weak self] in
            guard let self else { return }
            self.wakeNs = 0
            self.wakeCount &+= 1
        }
    }

    /// The arrival time of the bytes a channel reads now; `channelWake` is the channel's own
    /// note of the wake-up it last read in.
    @inlinable @inline(__always)
    public func arrivalNs(channelWake: inout UInt64) -> UInt64 {
        if wakeNs == 0, let close {
            wakeNs = MonotonicClock.now()
            loop.execute(close)
        } else if channelWake == wakeCount {
            return MonotonicClock.now()
        }
        channelWake = wakeCount
        return wakeNs
    }
}
