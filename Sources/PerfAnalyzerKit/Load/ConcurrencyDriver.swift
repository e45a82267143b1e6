import KServeProtocol
import NIOConcurrencyHelpers
import NIOCore

/// Keeps N requests outstanding at all times (concurrency mode), spread over the
/// event loops of its group, and hands the profiler one window of results at a time.
final class ConcurrencyDriver: LoadEngine, LoadDriver, @unchecked Sendable {
    private let requestCount: Int
    private let sequences: SequenceSource?
    /// Each slot's feed, in slot order (for closing sequences at the end).
    private let feeds = NIOLockedValueBox<[ConcurrencyFeed]>([])
    /// Makes a slot's feed when the run brings its own (chat sessions); nil: a `ConcurrencyFeed`.
    private let makeFeed: (@Sendable (LoadCounters) -> any SendFeed)?

    /// Slots are placed on `loops` in turn; the caller owns the loops and shuts them down.
    init(loops: [EventLoop], requestCount: Int, sequences: SequenceSource?, makeSinks: SinkFactory = { LoopSinks(window: $0) },
         makeFeed: (@Sendable (LoadCounters) -> any SendFeed)? = nil, makeSlot: @escaping SlotFactory) {
        self.requestCount = requestCount
        self.sequences = sequences
        self.makeFeed = makeFeed
        super.init(loops: loops, scheduled: false, makeSinks: makeSinks, makeSlot: makeSlot)
    }

    public func prepare(_ level: LoadLevel) async throws {
        guard case .concurrency(let count) = level else { preconditionFailure("a concurrency driver runs concurrency levels") }
        try await connectSlots(count: count)
    }

    public func start(_ level: LoadLevel) {
        guard case .concurrency(let count) = level else { preconditionFailure("a concurrency driver runs concurrency levels") }
        activate(level: count)
    }

    /// Makes exactly `level` slots active, connecting new ones first.
    public func setConcurrency(_ level: Int) async throws {
        try await connectSlots(count: level)
        activate(level: level)
    }

    /// Opens connections until at least `count` slots exist; none of them starts sending.
    public func connectSlots(count: Int) async throws {
        let current = slots.withLockedValue { $0.count }
        guard count > current else { return }
        if let sequences {
            do {
                try sequences.check(liveSequences: count)
            } catch {
                throw RunError(error.description)
            }
        }
        var connecting: [EventLoopFuture<Void>] = []
        for index in current..<count {
            let share = index % loops.count
            let feed: any SendFeed
            if let makeFeed {
                feed = makeFeed(counters)
            } else {
                let own = ConcurrencyFeed(counters: counters, requestCount: requestCount, slotIndex: index, sequences: sequences)
                feeds.withLockedValue { $0.append(own) }
                feed = own
            }
            let slot = addSlot(on: share, feed: feed)
            connecting.append(slot.eventLoop.flatSubmit { slot.connect() })
        }
        for future in connecting { try await future.get() }
    }

    /// The first `level` slots send; the others finish what they have in flight and stop.
    public func activate(level: Int) {
        for (index, slot) in slots.withLockedValue({ $0 }).enumerated() {
            if index < level {
                slot.eventLoop.execute { slot.activate() }
            } else {
                slot.eventLoop.execute { _ = slot.deactivate() }
            }
        }
    }

    @discardableResult
    public func quiesce(timeout: TimeAmount = .seconds(10)) async -> Int {
        await waitForSlots(timeout: timeout)
    }

    public func closeSequences() async {
        guard sequences != nil else { return }
        await quiesce()
        guard !hasFailed else { return }
        let pairs = zip(slots.withLockedValue { $0 }, feeds.withLockedValue { $0 })
        for (slot, feed) in pairs {
            slot.eventLoop.execute {
                feed.closing = true
                slot.activate()
            }
        }
        await waitUntilClosed(pairs.map { slot, feed in (slot.eventLoop, { feed.hasOpenSequence }) })
        await quiesce()
    }
}
