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
    /// Ends the current window on every loop and returns it merged; the next window starts now.
    func cutWindow() async throws -> ClientWindow
    /// Stops sending and waits (up to `timeout`) for requests in flight to finish.
    func quiesce(timeout: TimeAmount) async
    /// Sends the last request of every sequence still live, so the server lets go of its state.
    func closeSequences() async
    /// Closes every connection.
    func close() async
}

/// The parts every driver shares: the event loops and their recorders, the run's counters,
/// and the slots it made.
class LoadEngine: @unchecked Sendable {
    struct LoopShare {
        let loop: EventLoop
        let recorder: WindowRecorder
    }

    let loops: [LoopShare]
    let makeSlot: SlotFactory
    let counters: LoadCounters
    let slots = NIOLockedValueBox<[any LoadSlotBase]>([])
    /// Numbers slots as they are made.
    private let slotCount = ManagedAtomic(0)

    init(loops: [EventLoop], scheduled: Bool, counters: LoadCounters = LoadCounters(), makeSlot: @escaping SlotFactory) {
        precondition(!loops.isEmpty)
        self.counters = counters
        let now = MonotonicClock.now()
        self.loops = loops.map { LoopShare(loop: $0, recorder: WindowRecorder(startNs: now, scheduled: scheduled)) }
        self.makeSlot = makeSlot
    }

    /// The event loops that carry slots, in the order slots are placed on them.
    var eventLoops: [EventLoop] { loops.map(\.loop) }

    public var completedCount: Int { counters.completed.load(ordering: .relaxed) }

    public var hasFailed: Bool { counters.failed.load(ordering: .relaxed) }

    /// Makes one slot on the loop of `share` fed by `feed`, and keeps it for `close()`.
    func addSlot(on share: Int, feed: any SendFeed) -> any LoadSlotBase {
        let index = slotCount.loadThenWrappingIncrement(ordering: .relaxed)
        let loop = loops[share]
        let slot = makeSlot(SlotPlacement(index: index, eventLoop: loop.loop, recorder: loop.recorder, counters: counters, feed: feed))
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

    public func cutWindow() async throws -> ClientWindow {
        var parts: [ClientWindow] = []
        for share in loops {
            let recorder = share.recorder
            parts.append(try await share.loop.submit { recorder.cut(at: MonotonicClock.now()) }.get())
        }
        var merged = parts[0]
        for part in parts.dropFirst() { merged.merge(part) }
        return merged
    }

    /// Waits (up to `timeout`) until every slot has deactivated, i.e. has nothing in flight.
    func waitForSlots(timeout: TimeAmount) async {
        let all = slots.withLockedValue { $0 }
        var waits: [EventLoopFuture<Void>] = []
        for slot in all { waits.append(slot.eventLoop.flatSubmit { slot.deactivate() }) }
        guard !waits.isEmpty else { return }
        let loop = loops[0].loop
        let finished = loop.makePromise(of: Void.self)
        let settled = ManagedAtomic(false)
        func settle() {
            if settled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged { finished.succeed() }
        }
        EventLoopFuture.andAllComplete(waits, on: loop).whenComplete { _ in settle() }
        let timer = loop.scheduleTask(in: timeout) { settle() }
        try? await finished.futureResult.get()
        timer.cancel()
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

    public func close() async {
        for slot in slots.withLockedValue({ $0 }) {
            slot.eventLoop.execute { slot.close() }
        }
    }
}
