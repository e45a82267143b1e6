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
}

/// Makes the slots of one protocol.
typealias SlotFactory = @Sendable (SlotPlacement) -> any ConcurrencySlot
