import Atomics
import NIOConcurrencyHelpers

/// Counters shared by every slot of a run: how many requests may still be sent
/// (for `--request-count` and warm-up), how many completed, and the first failure.
final class LoadCounters: Sendable {
    /// Requests still allowed; meaningful only while `isBudgeted`.
    let sendBudget = ManagedAtomic<Int>(0)
    let isBudgeted = ManagedAtomic<Bool>(false)
    /// Requests completed (successfully or not) since the run started, counted by each event
    /// loop apart, in the order of the run's loops.
    let loopCompletions: [LoopCompletions]
    let failed = ManagedAtomic<Bool>(false)
    /// The completion count a waiter wants to hear about (`Int.max`: nobody waits).
    let notifyAt = ManagedAtomic<Int>(Int.max)
    let milestone = Milestone()

    init(loopCount: Int) {
        loopCompletions = (0..<max(1, loopCount)).map { _ in LoopCompletions() }
    }

    /// Requests completed on every loop.
    var completed: Int {
        var sum = 0
        for loop in loopCompletions { sum &+= loop.count }
        return sum
    }

    /// Takes one send from the budget; false when the budget is spent.
    @inline(__always)
    func claimSend() -> Bool {
        guard isBudgeted.load(ordering: .relaxed) else { return true }
        return sendBudget.loadThenWrappingDecrement(ordering: .relaxed) > 0
    }

    func setBudget(_ count: Int?) {
        if let count {
            sendBudget.store(count, ordering: .relaxed)
            isBudgeted.store(true, ordering: .sequentiallyConsistent)
        } else {
            isBudgeted.store(false, ordering: .sequentiallyConsistent)
        }
    }

    /// Counts one request completed on the loop that owns `completions`, waking a waiter
    /// once its count is reached. Runs on that loop.
    @inline(__always)
    func recordCompletion(on completions: LoopCompletions) {
        completions.add()
        // A waiter that set its target just as this count was stored may miss it; its own
        // periodic look (`waitForCompletions`) finds it then.
        let target = notifyAt.load(ordering: .relaxed)
        if target != Int.max, completed >= target { milestone.reach() }
    }

    func recordFailure() {
        failed.store(true, ordering: .sequentiallyConsistent)
        milestone.reach()
    }
}

/// The completions of one event loop's slots. Only that loop writes the count, so adding one
/// is a plain load and store, not a locked instruction every loop would contend for; anyone
/// reads it. The count has a cache line to itself, so loops do not slow each other's.
final class LoopCompletions: @unchecked Sendable {
    private let line: UnsafeMutableRawPointer
    private let counter: UnsafeAtomic<Int>

    init() {
        line = .allocate(byteCount: 64, alignment: 64)
        let storage = line.bindMemory(to: UnsafeAtomic<Int>.Storage.self, capacity: 1)
        storage.initialize(to: UnsafeAtomic<Int>.Storage(0))
        counter = UnsafeAtomic(at: storage)
    }

    deinit {
        line.deallocate()
    }

    /// One more completion; called only on the owning loop.
    @inline(__always)
    func add() {
        counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    var count: Int { counter.load(ordering: .relaxed) }
}

/// A one-shot wake-up for the profiler, so it can wait for a completion count
/// without polling (polling costs a timer and a thread wake-up per poll).
final class Milestone: Sendable {
    private struct State {
        var reached = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    func reset() {
        state.withLockedValue { $0.reached = false }
    }

    var isReached: Bool { state.withLockedValue(\.reached) }

    func reach() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.reached = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLockedValue { state -> Bool in
                if state.reached { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
