import KServeProtocol
import NIOCore

/// The next sends of one event loop's slots, made once every answer of the loop's current
/// wake-up has been read. (HTTP/1.1 slots send at once instead and time their reads by the
/// loop's wake-up, `LoopWakeClock`, which keeps the answers' times without the wait.)
///
/// A slot whose answer ends wants to send its next request at once; done inside the read, that
/// send's write (a loopback write runs the server's receive path and wakes it, which may take
/// this core) comes before the reads of the other answers that arrived in the same wake-up, so
/// their arrival times, and the latencies reported, grow with the work of every send ahead of
/// them. The loop reads all of them first, then sends (NIO runs tasks after the I/O of its
/// wake-up), as wrk does. A request's latency still starts at its own send.
///
/// Sends of one pass follow each other, so the clock reading that ends one send also starts
/// the next (`startNs()`, `sentNs()`): one read per request instead of two. The next start is
/// then a few dozen nanoseconds early, which only lengthens the latency reported.
///
/// Confined to `loop`; one task per wake-up with sends, none per request.
final class LoopSendQueue: @unchecked Sendable {
    private let loop: EventLoop
    @exclusivity(unchecked) private var waiting: [SlotCore] = []
    @exclusivity(unchecked) private var sending: [SlotCore] = []
    @exclusivity(unchecked) private var scheduled = false
    /// Whether `sendAll` is running.
    @exclusivity(unchecked) private var passing = false
    /// In a pass: the reading that ended the last send, for the next send's start (0: none).
    @exclusivity(unchecked) private var handoffNs: UInt64 = 0
    /// Made once: scheduling it allocates no closure.
    private var drain: (@Sendable () -> Void)?

    init(loop: EventLoop) {
        self.loop = loop
        waiting.reserveCapacity(64)
        sending.reserveCapacity(64)
        drain = { [unowned self] in self.sendAll() }
    }

    /// `slot` sends (if it still can) after the answers of this wake-up are read.
    @inline(__always)
    func add(_ slot: SlotCore) {
        waiting.append(slot)
        if !scheduled, let drain {
            scheduled = true
            loop.execute(drain)
        }
    }

    /// When a send starts: the end of the pass's previous send, or now.
    @inline(__always)
    func startNs() -> UInt64 {
        let handoff = handoffNs
        guard handoff != 0 else { return MonotonicClock.now() }
        handoffNs = 0
        return handoff
    }

    /// When a send ended: now, which the pass's next send starts from.
    @inline(__always)
    func sentNs() -> UInt64 {
        let now = MonotonicClock.now()
        if passing { handoffNs = now }
        return now
    }

    private func sendAll() {
        scheduled = false
        swap(&waiting, &sending)
        passing = true
        for slot in sending { slot.resume() }
        passing = false
        handoffNs = 0
        sending.removeAll(keepingCapacity: true)
    }
}
