import NIOConcurrencyHelpers

/// Periodic concurrency's sink on one event loop: tells the run's `PeriodTracker` when a
/// request reaches its request period, and when one ended before reaching it.
final class PeriodCounter: RequestRecordSink, @unchecked Sendable {
    private let period: Int
    private let tracker: PeriodTracker

    init(period: Int, tracker: PeriodTracker) {
        self.period = period
        self.tracker = tracker
    }

    func responseArrived(_ record: borrowing RequestRecord) {
        if record.responseCount == period { tracker.periodReached() }
    }

    func record(_ record: borrowing RequestRecord) {
        if record.succeeded, record.responseCount < period {
            tracker.endedEarly(responses: record.responseCount, period: period)
        }
    }
}

/// What every loop's `PeriodCounter` reports to: counts the latest set's requests that still
/// wait for their period, and asks for the next set once none does.
final class PeriodTracker: Sendable {
    private struct State {
        var launched = 0
        var waiting = 0
        var failure: String?
    }

    private let settings: PeriodicConcurrency
    private let state = NIOLockedValueBox(State())
    /// Starts `count` more requests; set by the driver.
    let launch = NIOLockedValueBox<(@Sendable (Int) -> Void)?>(nil)

    init(settings: PeriodicConcurrency) {
        self.settings = settings
    }

    var launchedCount: Int { state.withLockedValue { $0.launched } }
    var failure: String? { state.withLockedValue { $0.failure } }

    /// The first set.
    func begin() {
        startSet(settings.nextSet(afterLaunching: 0) == 0 ? 0 : settings.start)
    }

    func periodReached() {
        let next = state.withLockedValue { state -> Int in
            state.waiting -= 1
            guard state.waiting == 0 else { return 0 }
            return settings.nextSet(afterLaunching: state.launched)
        }
        if next > 0 { startSet(next) }
    }

    func endedEarly(responses: Int, period: Int) {
        state.withLockedValue { state in
            if state.failure == nil {
                state.failure = "a request ended after \(responses) responses, before --request-period \(period); the period must be at most the number of responses of every request"
            }
        }
    }

    private func startSet(_ count: Int) {
        guard count > 0 else { return }
        state.withLockedValue { state in
            state.launched += count
            state.waiting = count
        }
        launch.withLockedValue { $0 }?(count)
    }
}
