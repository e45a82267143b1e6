import NIOCore

/// Runs Swift tasks on one NIO event loop. A gRPC slot's task prefers the loop its
/// connection lives on, so sending, receiving and recording happen on one thread,
/// without hops to the cooperative pool, and the slot may record into its loop's
/// `WindowRecorder` without a lock.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: EventLoop

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
