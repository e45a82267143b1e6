import NIOCore

/// The profile export's sink on one event loop: keeps what the export writes of each
/// successful request (which request, when it went, when each response came and, for the
/// outputs, each response's bytes) as plain values. Once the profiler has said that the
/// current window is measured, every `handOffCount` requests, or sooner every `handOffBytes`
/// of response bodies, go to the `ExportSpool`, which writes them off the loop, so the process
/// holds a few thousand records however long the window; the rest go with the window when it
/// is cut. A window the profiler will not report (warm-up, the gap between levels) is dropped.
///
/// Confined to its event loop.
final class ExportRecorder: RequestRecordSink, @unchecked Sendable {
    /// What the profiler decided about the current window.
    enum Fate {
        /// Not told yet (just after a cut): records wait with the window.
        case undecided
        case measured
        case discarded
    }

    static let handOffCount = 4096
    /// A streamed answer keeps every event's body: 4096 answers of 500 tokens held half a
    /// gigabyte before their hand-off, so the bodies' bytes bound a batch too.
    static let handOffBytes = 16 << 20

    /// The export writes every response's outputs, so the slots keep response bodies.
    let keepsOutputs = true
    private let spool: ExportSpool
    @exclusivity(unchecked) private var batch = ExportBatch()
    @exclusivity(unchecked) private var fate = Fate.undecided

    init(spool: ExportSpool) {
        self.spool = spool
    }

    func record(_ record: borrowing RequestRecord) {
        guard case .success = record.outcome, fate != .discarded else { return }
        let first = batch.responseTimesNs.count
        if let log = record.responses {
            batch.responseTimesNs.append(contentsOf: log.timesNs)
            log.forEachBody {
                batch.bodies.append(ExportBatch.Body(bytes: $0, headerLength: nil))
                batch.bodyBytes += $0.readableBytes
            }
        } else {
            batch.responseTimesNs.append(record.endNs)
            let body = record.body ?? ByteBuffer()
            batch.bodies.append(ExportBatch.Body(bytes: body, headerLength: record.bodyHeaderLength))
            batch.bodyBytes += body.readableBytes
        }
        batch.entries.append(ExportBatch.Entry(request: record.request, sequenceID: record.sequence?.id ?? 0, startNs: record.startNs,
                                               firstResponse: first, responseCount: batch.responseTimesNs.count - first,
                                               inputs: record.sentInputs))
        if fate == .measured, batch.isFull { spool.submit(take()) }
    }

    /// The profiler's word on the window that began at the last cut.
    func decide(measured: Bool) {
        fate = measured ? .measured : .discarded
        if measured {
            if batch.isFull { spool.submit(take()) }
        } else {
            batch = ExportBatch()
        }
    }

    /// What the window that ends now still holds; the next window starts undecided.
    func cut() -> ExportBatch? {
        defer { fate = .undecided }
        return fate == .discarded ? nil : take()
    }

    private func take() -> ExportBatch {
        let taken = batch
        batch = ExportBatch()
        batch.reserve(like: taken)
        return taken
    }
}

/// Where loops hand the export's records during a measured window: the writer takes them in
/// order, off the loops.
protocol ExportSpool: AnyObject, Sendable {
    func submit(_ batch: ExportBatch)
}

/// The requests of one event loop in one window, as the export needs them.
struct ExportBatch: Sendable {
    struct Entry: Sendable {
        var request: Int
        /// 0 outside sequences (perf_analyzer then leaves the key out).
        var sequenceID: UInt64
        var startNs: UInt64
        /// This request's responses: `responseTimesNs` and `bodies` from this index on.
        var firstResponse: Int
        var responseCount: Int
        /// `request_inputs` when the request was built as it went; else the prepared request's.
        var inputs: [UInt8]? = nil
    }

    /// A response as received: an HTTP body (with its JSON header's length when binary data
    /// follows it), a `ModelInferResponse` or a `ModelStreamInferResponse`.
    struct Body: Sendable {
        var bytes: ByteBuffer
        var headerLength: Int?
    }

    var entries: [Entry] = []
    var responseTimesNs: [UInt64] = []
    var bodies: [Body] = []
    /// The bodies' bytes together.
    var bodyBytes = 0

    /// Whether the batch is due to go to the spool (`ExportRecorder.handOffCount`, `handOffBytes`).
    var isFull: Bool {
        entries.count >= ExportRecorder.handOffCount || bodyBytes >= ExportRecorder.handOffBytes
    }

    mutating func reserve(like other: ExportBatch) {
        entries.reserveCapacity(min(other.entries.count, ExportRecorder.handOffCount))
        responseTimesNs.reserveCapacity(min(other.responseTimesNs.count, ExportRecorder.handOffCount))
        bodies.reserveCapacity(min(other.bodies.count, ExportRecorder.handOffCount))
    }
}
