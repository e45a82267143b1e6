import Atomics

/// Counters shared by every slot of a run: how many requests may still be sent
/// (for `--request-count` and warm-up), how many completed, and the first failure.
final class LoadCounters: Sendable {
    /// Requests still allowed; meaningful only while `isBudgeted`.
    let sendBudget = ManagedAtomic<Int>(0)
    let isBudgeted = ManagedAtomic<Bool>(false)
    /// Requests completed (successfully or not) since the run started.
    let completed = ManagedAtomic<Int>(0)
    let failed = ManagedAtomic<Bool>(false)

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
}
