import KServeProtocol
import NIOCore

/// Periodic concurrency: every request has a slot (a stream) of its own and is sent once;
/// sets of requests start as the `PeriodTracker` asks, until `end` have started, and the run
/// is over when all of them have completed.
final class PeriodicConcurrencyDriver: LoadEngine, @unchecked Sendable {
    private let settings: PeriodicConcurrency
    private let tracker: PeriodTracker
    private let requestCount: Int

    init(loops: [EventLoop], requestCount: Int, settings: PeriodicConcurrency, tracker: PeriodTracker,
         makeSinks: SinkFactory, makeSlot: @escaping SlotFactory) {
        self.settings = settings
        self.tracker = tracker
        self.requestCount = requestCount
        super.init(loops: loops, scheduled: false, makeSinks: makeSinks, makeSlot: makeSlot)
        tracker.launch.withLockedValue { $0 = { [weak self] count in self?.launch(count) } }
    }

    /// Starts `count` more requests, each on a slot of its own, spread over the loops.
    private func launch(_ count: Int) {
        for _ in 0..<count {
            let index = slots.withLockedValue { $0.count }
            let share = index % loops.count
            let slot = addSlot(on: share, feed: OneRequestFeed(request: index % requestCount))
            slot.eventLoop.execute {
                slot.connect().whenComplete { result in
                    switch result {
                    case .success: slot.activate()
                    case .failure(let error): slot.failRun("\(error)")
                    }
                }
            }
        }
    }

    /// Runs the whole schedule; returns once every request started has completed, a request
    /// failed or ended before its period, or `stop()` says so.
    func run(stop: @escaping @Sendable () -> Bool) async {
        tracker.begin()
        let tracker = self.tracker
        let end = settings.end
        await waitForCompletions(reaching: end) { stop() || tracker.failure != nil }
    }

    func quiesce(timeout: TimeAmount) async -> Int {
        await waitForSlots(timeout: timeout)
    }
}

/// The feed of a periodic-concurrency slot: one request, then nothing.
final class OneRequestFeed: SendFeed, @unchecked Sendable {
    private var request: Int?

    init(request: Int) {
        self.request = request
    }

    func next(for slot: SlotCore) -> SendTicket? {
        defer { request = nil }
        return request.map { SendTicket(request: $0) }
    }

    func ended(_ ticket: SendTicket, succeeded: Bool) {}
}
