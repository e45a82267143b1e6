import Foundation
import NIOConcurrencyHelpers

/// The one thread that makes every MPI call, in order: MPI calls block (a collective waits for
/// every rank), so they never run on an event loop or the cooperative pool, and one thread
/// making them all is what `MPI_Init`'s single-threaded level asks for.
final class MPIThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    init() {
        let thread = Thread { [self] in serve() }
        thread.name = "mpi"
        thread.start()
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    private func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on the MPI thread and returns its result, or nil once `giveUp` says so
    /// first (checked every few ms): a rank stopped by Ctrl-C or by mpirun does not wait for
    /// a collective the others will never join. The call itself then stays blocked.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T, giveUp: @escaping @Sendable () -> Bool) async -> T? {
        let answer = NIOLockedValueBox<(done: Bool, value: T?)>((false, nil))
        enqueue {
            let value = body()
            answer.withLockedValue { $0 = (true, value) }
        }
        while true {
            let (done, value) = answer.withLockedValue { $0 }
            if done { return value }
            if giveUp() { return nil }
            // A collective on loopback takes tens of µs: look again after 0.2 ms, then every 2 ms.
            try? await Task.sleep(nanoseconds: 200_000)
            let (doneNow, valueNow) = answer.withLockedValue { $0 }
            if doneNow { return valueNow }
            if giveUp() { return nil }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    /// Runs `body` on the MPI thread and waits for it, whatever it takes (start-up and shut-down).
    func runToEnd<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let answer = NIOLockedValueBox<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        enqueue {
            let value = body()
            answer.withLockedValue { $0 = value }
            done.signal()
        }
        done.wait()
        return answer.withLockedValue { $0! }
    }
}
