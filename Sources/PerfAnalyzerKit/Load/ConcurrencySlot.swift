import KServeProtocol
import NIOCore

/// One unit of concurrency as the driver sees it: it connects, then keeps one request
/// outstanding while active. Every method is called on `eventLoop`, and the slot records
/// into that loop's `WindowRecorder` from there, so recording takes no lock.
protocol ConcurrencySlot: AnyObject, Sendable {
    var eventLoop: EventLoop { get }
    /// Completes once the slot can send.
    func connect() -> EventLoopFuture<Void>
    /// Starts (or resumes) sending.
    func activate()
    /// Stops sending; completes when none of the slot's requests is in flight.
    func deactivate() -> EventLoopFuture<Void>
    func close()
}

/// Where a new slot lives and what it shares with the others.
struct SlotPlacement {
    /// The slot's position; spreads the data steps so concurrent slots start on different ones.
    var index: Int
    var eventLoop: EventLoop
    var recorder: WindowRecorder
    var counters: LoadCounters
    /// What the slot sends and when; confined to `eventLoop` like the slot.
    var feed: any SendFeed
}

/// Makes the slots of one protocol.
typealias SlotFactory = @Sendable (SlotPlacement) -> any LoadSlotBase

/// A slot as drivers keep it: the shared core with one protocol's way of sending.
typealias LoadSlotBase = SlotCore & ConcurrencySlot

/// What every slot shares, whatever it speaks: its loop and recorder, whether it should
/// send, who waits for it to go idle, and how a failure stops the run.
/// Confined to `eventLoop`, like the slots built on it.
class SlotCore: @unchecked Sendable {
    let eventLoop: EventLoop
    let recorder: WindowRecorder
    let counters: LoadCounters
    let feed: any SendFeed
    /// Whether the slot should keep sending. Cleared when the level shrinks or the run stops.
    var active = false
    /// Set by a feed that holds the slot as idle, waiting for a request to be due.
    var isParked = false
    private var idleWaiters: [EventLoopPromise<Void>] = []

    init(placement: SlotPlacement) {
        eventLoop = placement.eventLoop
        recorder = placement.recorder
        counters = placement.counters
        feed = placement.feed
    }

    /// Starts (or resumes) sending.
    func activate() {
        active = true
        resume()
    }

    /// Stops sending; completes when none of the slot's requests is in flight.
    func deactivate() -> EventLoopFuture<Void> {
        stopSending(isBusy: isBusy)
    }

    func close() {
        active = false
        closeConnection()
    }

    // Hooks for the slots built on this.

    /// Opens the slot's own connection; a slot that shares one has nothing to open.
    func connect() -> EventLoopFuture<Void> {
        eventLoop.makeSucceededVoidFuture()
    }

    /// Send if the slot can (it was just activated).
    func resume() {}

    /// Whether a request of the slot is in flight.
    var isBusy: Bool { false }

    /// Let go of the slot's own connection, if it has one.
    func closeConnection() {}

    /// Active and no request of the run has failed.
    var maySend: Bool { active && !counters.failed.load(ordering: .relaxed) }

    /// Stops sending; the future completes at once when `isBusy` is false, else at the next `becameIdle()`.
    func stopSending(isBusy: Bool) -> EventLoopFuture<Void> {
        active = false
        guard isBusy else { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        idleWaiters.append(promise)
        return promise.futureResult
    }

    /// Releases whoever waits in `stopSending`, once nothing of the slot is in flight.
    func becameIdle() {
        guard !isBusy, !idleWaiters.isEmpty else { return }
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.succeed() }
    }

    /// Opens the connection again when the server let it go while the slot should still send
    /// (`Connection: close`, an idle timeout, GOAWAY).
    func reconnectIfSending() {
        guard maySend else { return }
        Diagnostics.logger.debug("a load connection closed; reconnecting")
        connect().whenFailure { error in
            self.fail("\(error)")
            self.becameIdle()
        }
    }

    // The life of one request, the same whatever the protocol.

    /// The next request to send, or nil when the feed has none now (it wakes the slot later).
    @inline(__always)
    func nextTicket() -> SendTicket? {
        feed.next(for: self)
    }

    /// A request left at `sentNs`: a scheduled one records how late it was.
    @inline(__always)
    func noteSent(_ ticket: SendTicket, atNs sentNs: UInt64) {
        guard ticket.intendedNs != 0 else { return }
        let lagNs = sentNs > ticket.intendedNs ? sentNs - ticket.intendedNs : 0
        recorder.recordSend(lagNs: lagNs, delayed: lagNs > Self.lateSendNs)
    }

    /// A send this far behind its time counts as delayed (it waited for a free connection,
    /// or the client fell behind). The lag itself is reported in percentiles.
    static let lateSendNs: UInt64 = 1_000_000

    /// A request ended at `endNs` (its success or failure already recorded): scheduled latency,
    /// sequence count, the feed's bookkeeping and the run's completion count.
    @inline(__always)
    func noteEnded(_ ticket: SendTicket, atNs endNs: UInt64, succeeded: Bool) {
        if succeeded {
            if ticket.intendedNs != 0 { recorder.recordScheduledLatency(endNs &- ticket.intendedNs) }
            if ticket.sequence?.end == true { recorder.recordSequenceEnd() }
        }
        feed.ended(ticket, succeeded: succeeded)
        counters.recordCompletion()
    }

    /// The slot's own connection closed (its state already says so): the request it carried,
    /// if any, ends failed with `failure`, waiters are released, and the slot reconnects if it
    /// should still send.
    func connectionEnded(abandoning ticket: SendTicket?, failure: @autoclosure () -> String) {
        if let ticket {
            fail(failure())
            noteEnded(ticket, atNs: MonotonicClock.now(), succeeded: false)
        }
        becameIdle()
        reconnectIfSending()
    }

    /// Records the failure in the window, which ends the run, and stops this slot.
    func fail(_ message: String) {
        recorder.recordFailure(message)
        counters.recordFailure()
        active = false
    }
}
