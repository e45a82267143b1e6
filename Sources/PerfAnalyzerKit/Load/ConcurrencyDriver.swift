import KServeProtocol
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import Atomics

/// Keeps N requests outstanding at all times (concurrency mode), spread over the
/// event loops of its group, and hands the profiler one window of results at a time.
public final class ConcurrencyDriver: Sendable {
    private struct LoopShare {
        let loop: EventLoop
        let recorder: WindowRecorder
    }

    private let loops: [LoopShare]
    private let makeSlot: SlotFactory
    private let counters = LoadCounters()
    private let slots = NIOLockedValueBox<[any ConcurrencySlot]>([])

    /// Slots are placed on `loops` in turn; the caller owns the loops and shuts them down.
    init(loops: [EventLoop], makeSlot: @escaping SlotFactory) {
        precondition(!loops.isEmpty)
        let now = MonotonicClock.now()
        self.loops = loops.map { LoopShare(loop: $0, recorder: WindowRecorder(startNs: now)) }
        self.makeSlot = makeSlot
    }

    /// The event loops that carry slots, in the order slots are placed on them.
    var eventLoops: [EventLoop] { loops.map(\.loop) }

    /// Requests completed since the driver started, failed ones included.
    public var completedCount: Int { counters.completed.load(ordering: .relaxed) }

    public var hasFailed: Bool { counters.failed.load(ordering: .relaxed) }

    /// Returns once `target` requests have completed since the driver started, a request
    /// failed, or `stop()` says so (checked every 100 ms).
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

    /// Limits how many more requests are sent (`nil`: no limit).
    public func setSendBudget(_ count: Int?) {
        counters.setBudget(count)
    }

    /// Makes exactly `level` slots active, connecting new ones first.
    public func setConcurrency(_ level: Int) async throws {
        try await connectSlots(count: level)
        activate(level: level)
    }

    /// Opens connections until at least `count` slots exist; none of them starts sending.
    public func connectSlots(count: Int) async throws {
        let current = slots.withLockedValue { $0 }
        guard count > current.count else { return }
        var created: [any ConcurrencySlot] = []
        var connecting: [EventLoopFuture<Void>] = []
        for index in current.count..<count {
            let share = loops[index % loops.count]
            let slot = makeSlot(SlotPlacement(index: index, eventLoop: share.loop, recorder: share.recorder, counters: counters))
            created.append(slot)
            connecting.append(share.loop.flatSubmit { slot.connect() })
        }
        slots.withLockedValue { $0 = current + created }
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

    /// Ends the current window on every loop and returns it merged; the next window starts now.
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

    /// Stops sending and waits (up to `timeout`) for requests in flight to finish.
    public func quiesce(timeout: TimeAmount = .seconds(10)) async {
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

    /// Closes every connection.
    public func close() async {
        for slot in slots.withLockedValue({ $0 }) {
            slot.eventLoop.execute { slot.close() }
        }
    }
}
