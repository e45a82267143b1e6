import Atomics
import KServeProtocol
import NIOConcurrencyHelpers
import NIOCore

/// One load level: requests kept in flight, or requests sent per second.
public enum LoadLevel: Sendable, Equatable {
    case concurrency(Int)
    /// A request rate (`--request-rate-range`), or the average rate of `--request-intervals`.
    case requestRate(Double)
}

extension LoadLevel {
    /// The level as reports write it: a whole concurrency or a rate in `%g`.
    public var value: String {
        switch self {
        case .concurrency(let count): return String(count)
        case .requestRate(let rate): return formatG(rate)
        }
    }

    /// The line that opens a level's report.
    public var header: String {
        switch self {
        case .concurrency(let count): return "Request concurrency: \(count)"
        case .requestRate(let rate): return "Request Rate: \(formatG(rate)) inference requests per seconds"
        }
    }

    /// How the level is named in a sentence ("concurrency 4", "request rate 100").
    public var phrase: String {
        switch self {
        case .concurrency(let count): return "concurrency \(count)"
        case .requestRate(let rate): return "request rate \(formatG(rate))"
        }
    }
}

/// What the profiler asks of the load, whatever its mode.
protocol LoadDriver: Sendable {
    /// Requests completed since the driver started, failed ones included.
    var completedCount: Int { get }
    var hasFailed: Bool { get }
    /// Returns once `target` requests have completed, a request failed, or `stop()` says so.
    func waitForCompletions(reaching target: Int, stop: @Sendable () -> Bool) async
    /// Limits how many more requests are sent (`nil`: no limit).
    func setSendBudget(_ count: Int?)
    /// Opens what `level` needs (connections) without sending.
    func prepare(_ level: LoadLevel) async throws
    /// Runs at `level` from now on.
    func start(_ level: LoadLevel)
    /// Runs at `level`; a schedule starts at `scheduleOriginNs` (monotonic) when given, the
    /// instant every MPI rank of a split load starts its copy of the one schedule.
    func start(_ level: LoadLevel, scheduleOriginNs: UInt64?)
    /// Ends the current window on every loop and returns it merged; the next window starts now.
    func cutWindow() async throws -> WindowCut
    /// Says whether the window that began at the last cut will be reported.
    func decideWindow(measured: Bool) async
    /// Stops sending and waits (up to `timeout`) for requests in flight to finish; returns how
    /// many slots still had one when the time was up (their requests are abandoned).
    @discardableResult
    func quiesce(timeout: TimeAmount) async -> Int
    /// The slowest successful answer the run has seen, in ns (as of the watches' last look).
    var slowestAnswerNs: UInt64 { get }
    /// Sends the last request of every sequence still live, so the server lets go of its state.
    func closeSequences() async
    /// Fails requests that wait longer than `limitMs` for their answer (0: automatic; `RequestWatch`).
    func watchRequests(limitMs: Int)
    /// Requests sent and not yet answered, counted on each loop (off the send path).
    func requestsInFlight() async -> Int
    /// Closes every connection.
    func close() async
}

/// Makes the sinks of one event loop around its window aggregate.
typealias SinkFactory = @Sendable (WindowRecorder) -> LoopSinks

/// The parts every driver shares: the event loops and their sinks, the run's counters,
/// and the slots it made.
class LoadEngine: @unchecked Sendable {
    struct LoopShare {
        let loop: EventLoop
        let sinks: LoopSinks
        let sends: LoopSendQueue
        let wakeClock: LoopWakeClock
    }

    let loops: [LoopShare]
    let makeSlot: SlotFactory
    let counters: LoadCounters
    let slots = NIOLockedValueBox<[any LoadSlotBase]>([])
    /// Numbers slots as they are made.
    private let slotCount = ManagedAtomic(0)
    private let watches = NIOLockedValueBox<[RequestWatch]>([])
    private let slowestAnswer = ManagedAtomic<UInt64>(0)

    var slowestAnswerNs: UInt64 { slowestAnswer.load(ordering: .relaxed) }

    init(loops: [EventLoop], scheduled: Bool, counters: LoadCounters? = nil, makeSinks: SinkFactory,
         makeSlot: @escaping SlotFactory) {
        precondition(!loops.isEmpty)
        let counters = counters ?? LoadCounters(loopCount: loops.count)
        precondition(counters.loopCompletions.count == loops.count)
        self.counters = counters
        let now = MonotonicClock.now()
        self.loops = loops.map {
            LoopShare(loop: $0, sinks: makeSinks(WindowRecorder(startNs: now, scheduled: scheduled)), sends: LoopSendQueue(loop: $0),
                      wakeClock: LoopWakeClock(loop: $0))
        }
        for share in self.loops {
            let window = share.sinks.window
            share.loop.execute { window.startCPUClock() }
        }
        self.makeSlot = makeSlot
    }

    /// The event loops that carry slots, in the order slots are placed on them.
    var eventLoops: [EventLoop] { loops.map(\.loop) }

    public var completedCount: Int { counters.completed }

    public var hasFailed: Bool { counters.failed.load(ordering: .relaxed) }

    /// Makes one slot on the loop of `share` fed by `feed`, and keeps it for `close()`.
    func addSlot(on share: Int, feed: any SendFeed) -> any LoadSlotBase {
        let index = slotCount.loadThenWrappingIncrement(ordering: .relaxed)
        let loop = loops[share]
        let slot = makeSlot(SlotPlacement(index: index, eventLoop: loop.loop, sinks: loop.sinks, counters: counters,
                                          completions: counters.loopCompletions[share], feed: feed,
                                          sends: loop.sends, wakeClock: loop.wakeClock))
        slots.withLockedValue { $0.append(slot) }
        return slot
    }

    public func waitForCompletions(reaching target: Int, stop: @Sendable () -> Bool) async {
        let loop = loops[0].loop
        let milestone = counters.milestone
        while true {
            milestone.reset()
            counters.notifyAt.store(target, ordering: .sequentiallyConsistent)
            if completedCount >= target || hasFailed || stop() { break }
            let tick = loop.scheduleTask(in: .milliseconds(100)) { milestone.reach() }
            await milestone.wait()
            tick.cancel()
        }
        counters.notifyAt.store(Int.max, ordering: .sequentiallyConsistent)
    }

    public func setSendBudget(_ count: Int?) {
        counters.setBudget(count)
    }

    /// How far ahead a cut is set, so that every loop has heard of it before it comes (a loop
    /// reaches a submitted task once it has handled the reads in hand).
    static let cutLeadNs: UInt64 = 5_000_000

    /// Cuts every loop's window at one instant: each loop learns the instant first, then, once it
    /// has passed, hands over the window that ended there. A request belongs to the window its
    /// answer completed in, the same on every loop and in every sink (the export's window
    /// boundaries bound exactly the requests the report counts).
    public func cutWindow() async throws -> WindowCut {
        let cutNs = MonotonicClock.now() + Self.cutLeadNs
        let told = loops.map { share in
            let sinks = share.sinks
            return share.loop.submit { sinks.prepareCut(at: cutNs) }
        }
        for future in told { try await future.get() }
        let now = MonotonicClock.now()
        if now < cutNs { try await Task.sleep(nanoseconds: cutNs - now) }
        var parts: [LoopWindow] = []
        for share in loops {
            let sinks = share.sinks
            parts.append(try await share.loop.submit { sinks.takeCut() }.get())
        }
        var merged = parts[0].client
        for part in parts.dropFirst() { merged.merge(part.client) }
        return WindowCut(client: merged, exported: parts.compactMap(\.exported))
    }

    public func decideWindow(measured: Bool) async {
        for share in loops {
            let sinks = share.sinks
            try? await share.loop.submit { sinks.decideWindow(measured: measured) }.get()
        }
    }

    /// Waits (up to `timeout`) until every slot has deactivated, i.e. has nothing in flight;
    /// returns how many had not when the time was up.
    @discardableResult
    func waitForSlots(timeout: TimeAmount) async -> Int {
        let all = slots.withLockedValue { $0 }
        var waits: [EventLoopFuture<Void>] = []
        for slot in all { waits.append(slot.eventLoop.flatSubmit { slot.deactivate() }) }
        guard !waits.isEmpty else { return 0 }
        let idle = ManagedAtomic(0)
        for wait in waits { wait.whenComplete { _ in idle.wrappingIncrement(ordering: .relaxed) } }
        let loop = loops[0].loop
        let finished = loop.makePromise(of: Void.self)
        let settled = ManagedAtomic(false)
        @Sendable func settle() {
            if settled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged { finished.succeed() }
        }
        EventLoopFuture.andAllComplete(waits, on: loop).whenComplete { _ in settle() }
        let timer = loop.scheduleTask(in: timeout) { settle() }
        try? await finished.futureResult.get()
        timer.cancel()
        return max(0, waits.count - idle.load(ordering: .relaxed))
    }

    /// Waits until each `isOpen` answers false on its loop (the sequences it asks about have
    /// their END answered), a request fails, or 10 s pass. Polled: a slot that sends from a
    /// task would see a deactivation before its closing request went out.
    func waitUntilClosed(_ checks: [(loop: EventLoop, isOpen: @Sendable () -> Bool)]) async {
        let deadline = MonotonicClock.now() + 10_000_000_000
        for check in checks {
            while MonotonicClock.now() < deadline, !hasFailed, (try? await check.loop.submit(check.isOpen).get()) == true {
                try? await Task.sleep(nanoseconds: 5_000_000)
            }
        }
    }

    func requestsInFlight() async -> Int {
        var count = 0
        for share in loops {
            let loop = share.loop
            let onLoop = slots.withLockedValue { $0.filter { $0.eventLoop === loop } }
            count += (try? await loop.submit { onLoop.reduce(0) { $0 + ($1.awaitingSinceNs > 0 ? 1 : 0) } }.get()) ?? 0
        }
        return count
    }

    func watchRequests(limitMs: Int) {
        let slowest = slowestAnswer
        let made = loops.map { share in
            let loop = share.loop
            return RequestWatch(loop: loop, sinks: share.sinks, fixedLimitMs: limitMs, slowestAnswerNs: slowest,
                                slotsOnLoop: { [slots] in slots.withLockedValue { $0.filter { $0.eventLoop === loop } } })
        }
        watches.withLockedValue { $0 = made }
        for (watch, share) in zip(made, loops) { share.loop.execute { watch.start() } }
    }

    public func close() async {
        for (watch, share) in zip(watches.withLockedValue({ $0 }), loops) {
            try? await share.loop.submit { watch.stop() }.get()
        }
        for slot in slots.withLockedValue({ $0 }) {
            slot.eventLoop.execute { slot.close() }
        }
    }
}

extension LoadDriver {
    /// A driver without a schedule has no origin to honour.
    func start(_ level: LoadLevel, scheduleOriginNs: UInt64?) {
        start(level)
    }
}
