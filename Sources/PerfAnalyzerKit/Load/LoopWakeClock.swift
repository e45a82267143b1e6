import KServeProtocol
import NIOCore

/// When the answers an event loop reads arrived, by the loop's wake-up: the first read of a
/// wake-up reads the clock, and every other channel read in that wake-up takes the same time,
/// so the work the loop does between its reads (other answers, sends made at once) is not
/// counted in their latencies. A connection carries one request, so an answer read in a wake-up
/// was on its way before the loop woke: when it came in one piece (one write of the server, as
/// nginx's and kserve-sim's small answers do) it was in its socket by then, and the time is
/// never earlier than its arrival. An answer whose last piece came while the loop read the
/// others is timed early by at most the time the loop spent before its read. A channel read a
/// second time in one wake-up reads the clock itself.
///
/// Confined to `loop`; one task per wake-up with reads clears the time.
final class LoopWakeClock: @unchecked Sendable {
    private let loop: EventLoop
    /// The current wake-up's time; 0 between wake-ups.
    @exclusivity(unchecked) private var wakeNs: UInt64 = 0
    /// Counts wake-ups, so a channel can tell its second read in one.
    @exclusivity(unchecked) private var wakeCount: UInt64 = 1
    /// Made once: scheduling it allocates no closure.
    private var close: (@Sendable () -> Void)?

    init(loop: EventLoop) {
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
    @inline(__always)
    func arrivalNs(channelWake: inout UInt64) -> UInt64 {
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
