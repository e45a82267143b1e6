/// The window aggregate: folds the records of one event loop into the current window's counts
/// and HDR histograms, so its memory is flat however many requests there were.
///
/// Confined to its event loop: the slots of that loop record into it and the profiler cuts
/// windows through `EventLoop.submit`, so no lock is taken on the hot path.
final class WindowRecorder: RequestRecordSink, @unchecked Sendable {
    @exclusivity(unchecked) private(set) var window: ClientWindow
    /// Whether windows keep schedule figures (request rate and interval loads).
    private let scheduled: Bool

    init(startNs: UInt64, scheduled: Bool = false) {
        self.scheduled = scheduled
        window = ClientWindow(startNs: startNs, scheduled: scheduled)
    }

    @inline(__always)
    func record(_ record: borrowing RequestRecord) {
        if record.intendedNs != 0 {
            let lagNs = record.sendLagNs
            window.recordSend(lagNs: lagNs, delayed: lagNs > Self.lateSendNs)
        }
        guard case .success = record.outcome else {
            window.recordFailure(record.outcome)
            return
        }
        if record.toFirstResponse {
            window.recordDecoupled(firstResponseNs: record.latencyNs, lastResponseNs: record.endNs &- record.startNs,
                                   responses: record.responseCount, batchSize: record.batchSize)
        } else {
            window.recordSuccess(latencyNs: record.latencyNs, sendNs: record.sendNs, receiveNs: record.receiveNs,
                                 batchSize: record.batchSize)
        }
        if record.intendedNs != 0 { window.recordScheduledLatency(record.endNs &- record.intendedNs) }
        if record.sequence?.end == true { window.sequenceCount += 1 }
    }

    /// A send this far behind its time counts as delayed (it waited for a free connection,
    /// or the client fell behind). The lag itself is reported in percentiles.
    static let lateSendNs: UInt64 = 1_000_000

    /// A failure that belongs to no request (a connection that could not be reopened).
    func recordFailure(_ message: String) {
        window.recordFailure(.connectionError(message))
    }

    /// The loop thread's CPU clock at the start of the current window; nil until the first cut
    /// (the recorder is made off its loop), so the first window has no overhead figure.
    @exclusivity(unchecked) private var busyAtStartNs: UInt64?

    /// Closes the current window at `nowNs` and starts the next one there. Runs on the loop.
    func cut(at nowNs: UInt64) -> ClientWindow {
        var finished = window
        finished.endNs = nowNs
        let busyNs = ThreadCPUClock.now()
        if let start = busyAtStartNs, busyNs >= start {
            finished.loopBusyNs = busyNs - start
            finished.loopSpanNs = finished.durationNs
        }
        busyAtStartNs = busyNs
        window = ClientWindow(startNs: nowNs, scheduled: scheduled)
        return finished
    }
}
