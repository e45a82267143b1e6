import KServeProtocol
import NIOCore

/// One unit of concurrency as the driver sees it: it connects, then keeps one request
/// outstanding while active. Every method is called on `eventLoop`, and the slot hands each
/// finished request to that loop's `LoopSinks` from there, so recording takes no lock.
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
    var sinks: LoopSinks
    var counters: LoadCounters
    /// The completion count of `eventLoop`, within `counters`.
    var completions: LoopCompletions
    /// What the slot sends and when; confined to `eventLoop` like the slot.
    var feed: any SendFeed
    /// The loop's sends made after its wake-up's reads.
    var sends: LoopSendQueue
    /// When the loop's reads arrived, by its wake-ups.
    var wakeClock: LoopWakeClock
}

/// Makes the slots of one protocol.
typealias SlotFactory = @Sendable (SlotPlacement) -> any LoadSlotBase

/// A slot as drivers keep it: the shared core with one protocol's way of sending.
typealias LoadSlotBase = SlotCore & ConcurrencySlot

/// What every slot shares, whatever it speaks: its loop and sinks, whether it should
/// send, who waits for it to go idle, and how a request's record ends.
/// Confined to `eventLoop`, like the slots built on it.
class SlotCore: @unchecked Sendable {
    let eventLoop: EventLoop
    let sinks: LoopSinks
    let counters: LoadCounters
    private let completions: LoopCompletions
    let feed: any SendFeed
    private let sends: LoopSendQueue
    let wakeClock: LoopWakeClock
    /// Whether the slot should keep sending. Cleared when the level shrinks or the run stops.
    @exclusivity(unchecked) var active = false
    /// Set by a feed that holds the slot as idle, waiting for a request to be due.
    @exclusivity(unchecked) var isParked = false
    private var idleWaiters: [EventLoopPromise<Void>] = []

    init(placement: SlotPlacement) {
        eventLoop = placement.eventLoop
        sinks = placement.sinks
        counters = placement.counters
        completions = placement.completions
        feed = placement.feed
        sends = placement.sends
        wakeClock = placement.wakeClock
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

    /// Send if the slot can (it was just activated, or its turn in the loop's sends came).
    func resume() {}

    /// After an answer ended: send the next request once the loop has read the other answers
    /// of this wake-up (`LoopSendQueue`).
    @inline(__always)
    func sendSoon() {
        sends.add(self)
    }

    /// Whether a request of the slot is in flight.
    var isBusy: Bool { false }

    /// Let go of the slot's own connection, if it has one.
    func closeConnection() {}

    /// Since when the request in flight has waited for its answer (a stream: for its next
    /// response), on the monotonic clock; 0 when nothing is in flight. Read by `RequestWatch`.
    var awaitingSinceNs: UInt64 { 0 }

    /// Ends the request in flight as failed with `outcome` (it got no answer in time). A slot
    /// with a connection of its own drops it, since the answer may still come and must not be
    /// taken for the next request's; the request ends with `outcome` when the close is seen.
    func abandonInFlight(_ outcome: RequestOutcome) {
        abandonedOutcome = outcome
        closeConnection()
    }

    /// Set by `abandonInFlight`: how the request in flight ends once its connection has closed.
    var abandonedOutcome: RequestOutcome?

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
            self.failRun("\(error)")
            self.becameIdle()
        }
    }

    // The life of one request, the same whatever the protocol.

    /// The next request to send, or nil when the feed has none now (it wakes the slot later).
    @inline(__always)
    func nextTicket() -> SendTicket? {
        feed.next(for: self)
    }

    /// The record of `ticket`'s request, starting now.
    @inline(__always)
    func beginRecord(_ ticket: SendTicket, batchSize: Int) -> RequestRecord {
        RequestRecord(ticket: ticket, startNs: MonotonicClock.now(), batchSize: batchSize)
    }

    /// `beginRecord` for a slot that keeps one record for all its requests: the record is
    /// restarted in place, which copies and releases nothing.
    @inline(__always)
    func beginRecord(_ ticket: SendTicket, batchSize: Int, in record: inout RequestRecord) {
        record.restart(ticket: ticket, startNs: MonotonicClock.now(), batchSize: batchSize)
    }

    /// For a slot whose send follows its ticket at once: when the send starts, shared with
    /// the end of the send before it in the loop's pass of sends (`LoopSendQueue`).
    @inline(__always)
    func sendStartNs() -> UInt64 {
        sends.startNs()
    }

    /// The pair of `sendStartNs()`: the send ended now.
    @inline(__always)
    func sendEndNs() -> UInt64 {
        sends.sentNs()
    }

    /// A request ended (its record filled in): the loop's sinks take the record, a failure
    /// stops the run, and the feed and the run's completion count learn of it.
    @inline(__always)
    func finish(_ record: inout RequestRecord) {
        // The sinks and the loop's completion count are written without locks (debug builds check).
        eventLoop.assertInEventLoop()
        sinks.deliver(record)
        let succeeded = record.succeeded
        if !succeeded {
            counters.recordFailure()
            active = false
        }
        feed.ended(record.ticket, succeeded: succeeded)
        counters.recordCompletion(on: completions)
    }

    /// The slot's own connection closed (its state already says so): the request it carried,
    /// if any, ends failed with `failure`, waiters are released, and the slot reconnects if it
    /// should still send.
    func connectionEnded(abandoning record: RequestRecord?, failure: @autoclosure () -> String) {
        if var record {
            record.endNs = MonotonicClock.now()
            record.outcome = abandonedOutcome ?? .connectionError(failure())
            finish(&record)
        }
        abandonedOutcome = nil
        becameIdle()
        reconnectIfSending()
    }

    /// A failure that belongs to no request (a connection that could not be reopened): it
    /// ends the run as a failed request does.
    func failRun(_ message: String) {
        sinks.window.recordFailure(message)
        counters.recordFailure()
        active = false
    }
}
