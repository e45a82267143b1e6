/// Collects the requests completed on one event loop into the current window.
///
/// Confined to its event loop: the slots of that loop record into it and the
/// profiler cuts windows through `EventLoop.submit`, so no lock is taken on the
/// hot path.
final class WindowRecorder: @unchecked Sendable {
    private(set) var window: ClientWindow
    /// Whether windows keep schedule figures (request rate and interval loads).
    private let scheduled: Bool

    init(startNs: UInt64, scheduled: Bool = false) {
        self.scheduled = scheduled
        window = ClientWindow(startNs: startNs, scheduled: scheduled)
    }

    @inline(__always)
    func recordSuccess(latencyNs: UInt64, sendNs: UInt64, receiveNs: UInt64, batchSize: Int) {
        window.recordSuccess(latencyNs: latencyNs, sendNs: sendNs, receiveNs: receiveNs, batchSize: batchSize)
    }

    @inline(__always)
    func recordDecoupled(firstResponseNs: UInt64, lastResponseNs: UInt64, responses: Int, batchSize: Int) {
        window.recordDecoupled(firstResponseNs: firstResponseNs, lastResponseNs: lastResponseNs, responses: responses, batchSize: batchSize)
    }

    @inline(__always)
    func recordSend(lagNs: UInt64, delayed: Bool) {
        window.recordSend(lagNs: lagNs, delayed: delayed)
    }

    @inline(__always)
    func recordScheduledLatency(_ sinceIntendedNs: UInt64) {
        window.recordScheduledLatency(sinceIntendedNs)
    }

    func recordSequenceEnd() {
        window.sequenceCount += 1
    }

    func recordFailure(_ message: String) {
        window.recordFailure(message)
    }

    /// Closes the current window at `nowNs` and starts the next one there.
    func cut(at nowNs: UInt64) -> ClientWindow {
        var finished = window
        finished.endNs = nowNs
        window = ClientWindow(startNs: nowNs, scheduled: scheduled)
        return finished
    }
}
