import Atomics
import NIOConcurrencyHelpers

/// Counters shared by every slot of a run: how many requests may still be sent
/// (for `--request-count` and warm-up), how many completed, and the first failure.
final class LoadCounters: Sendable {
    /// Requests still allowed; meaningful only while `isBudgeted`.
    let sendBudget = ManagedAtomic<Int>(0)
    let isBudgeted = ManagedAtomic<Bool>(false)
    /// Requests completed (successfully or not) since the run started.
    let completed = ManagedAtomic<Int>(0)
    let failed = ManagedAtomic<Bool>(false)
    /// The completion count a waiter wants to hear about (`Int.max`: nobody waits).
    let notifyAt = ManagedAtomic<Int>(Int.max)
    let milestone = Milestone()

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

    /// Counts one completed request, waking a waiter once its count is reached.
    @inline(__always)
    func recordCompletion() {
        let count = completed.wrappingIncrementThenLoad(ordering: .sequentiallyConsistent)
        if count >= notifyAt.load(ordering: .sequentiallyConsistent) { milestone.reach() }
    }

    func recordFailure() {
        failed.store(true, ordering: .sequentiallyConsistent)
        milestone.reach()
    }
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
