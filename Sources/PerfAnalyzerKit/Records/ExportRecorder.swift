import NIOCore

/// The profile export's sink on one event loop: keeps what the export writes of each
/// successful request of the current window (which request, when it went, when each response
/// came and, for the outputs, each response's bytes), as plain values in arrays that are handed
/// over whole when the window is cut. The JSON is written off the loop, by `ProfileExportWriter`.
///
/// Confined to its event loop.
final class ExportRecorder: RequestRecordSink, @unchecked Sendable {
    /// The export writes every response's outputs, so the slots keep response bodies.
    let keepsOutputs = true
    @exclusivity(unchecked) private var batch = ExportBatch()

    func record(_ record: borrowing RequestRecord) {
        guard case .success = record.outcome else { return }
        let first = batch.responseTimesNs.count
        if let log = record.responses {
            batch.responseTimesNs.append(contentsOf: log.timesNs)
            if log.keepsBodies {
                for body in log.bodies { batch.bodies.append(ExportBatch.Body(bytes: body, headerLength: nil)) }
            }
        } else {
            batch.responseTimesNs.append(record.endNs)
            batch.bodies.append(ExportBatch.Body(bytes: record.body ?? ByteBuffer(), headerLength: record.bodyHeaderLength))
        }
        batch.entries.append(ExportBatch.Entry(request: record.request, sequenceID: record.sequence?.id ?? 0, startNs: record.startNs,
                                               firstResponse: first, responseCount: batch.responseTimesNs.count - first))
    }

    /// The requests recorded since the last cut; the next window starts empty.
    func cut() -> ExportBatch {
        let finished = batch
        batch = ExportBatch()
        batch.reserve(like: finished)
        return finished
    }
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

    mutating func reserve(like other: ExportBatch) {
        entries.reserveCapacity(other.entries.count)
        responseTimesNs.reserveCapacity(other.responseTimesNs.count)
        bodies.reserveCapacity(other.bodies.count)
    }
}
