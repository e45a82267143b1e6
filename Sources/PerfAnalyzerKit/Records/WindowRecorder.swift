import KServeProtocol

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

    /// The loop thread's CPU clock and the monotonic clock when they were last read; nil until
    /// `startCPUClock` runs on the loop (the recorder is made off it).
    @exclusivity(unchecked) private var cpuMark: (busyNs: UInt64, atNs: UInt64)?

    /// Reads the loop thread's CPU clock once, on the loop, before the load starts.
    func startCPUClock() {
        cpuMark = (CPUClock.threadNs(), MonotonicClock.now())
    }

    /// Closes the current window at `nowNs` and starts the next one there. Runs on the loop.
    func cut(at nowNs: UInt64) -> ClientWindow {
        var finished = window
        finished.endNs = nowNs
        let busyNs = CPUClock.threadNs()
        let atNs = MonotonicClock.now()
        // Busy time and elapsed time over the same span, from the last reading to this one.
        if let mark = cpuMark, busyNs >= mark.busyNs, atNs > mark.atNs {
            finished.loopBusyNs = busyNs - mark.busyNs
            finished.loopSpanNs = atNs - mark.atNs
        }
        cpuMark = (busyNs, atNs)
        window = ClientWindow(startNs: nowNs, scheduled: scheduled)
        return finished
    }
}
