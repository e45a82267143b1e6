import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import PerfAnalyzerKit

/// The export's sink on a loop hands measured records to the writer in batches bounded both in
/// requests and in the bytes of the responses they keep, so memory stays flat for long answers.
@Suite("Export hand-off from the loops")
struct ExportRecorderTests {
    /// The writer's side of the spool: keeps each batch it is given.
    final class KeepingSpool: ExportSpool, @unchecked Sendable {
        let batches = NIOLockedValueBox<[ExportBatch]>([])
        func submit(_ batch: ExportBatch) { batches.withLockedValue { $0.append(batch) } }
        var taken: [ExportBatch] { batches.withLockedValue { $0 } }
    }

    /// A streamed answer of `events` responses of `eventBytes` bytes each.
    private func streamedRecord(_ request: Int, events: Int, eventBytes: Int) -> RequestRecord {
        var record = RequestRecord(ticket: SendTicket(request: request), startNs: 1, batchSize: 1)
        let log = ResponseLog(keepsBodies: true)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: eventBytes)
        body.withUnsafeBytes { bytes in
            for event in 0..<events { log.append(atNs: UInt64(2 + event), copying: bytes) }
        }
        record.responses = log
        record.responseCount = events
        record.endNs = UInt64(2 + events)
        return record
    }

    @Test("streamed answers go to the writer once their bodies reach handOffBytes, long before handOffCount answers")
    func streamedAnswersByBytes() {
        let spool = KeepingSpool()
        let recorder = ExportRecorder(spool: spool)
        recorder.decide(measured: true)
        // 500 events of 240 bytes: about a 500-token LLM answer.
        let perAnswer = 500 * 240
        let answers = ExportRecorder.handOffBytes / perAnswer + 1
        #expect(answers < ExportRecorder.handOffCount)
        for request in 0..<(answers - 1) { recorder.record(streamedRecord(request, events: 500, eventBytes: 240)) }
        #expect(spool.taken.isEmpty)
        recorder.record(streamedRecord(answers - 1, events: 500, eventBytes: 240))
        let batches = spool.taken
        #expect(batches.count == 1)
        #expect(batches.first?.entries.count == answers)
        #expect(batches.first?.bodies.count == answers * 500)
        #expect(batches.first?.bodyBytes == answers * perAnswer)
        // The next batch starts empty.
        #expect(recorder.cut()?.entries.count == 0)
    }

    @Test("small unary answers still go handOffCount at a time")
    func unaryAnswersByCount() {
        let spool = KeepingSpool()
        let recorder = ExportRecorder(spool: spool)
        recorder.decide(measured: true)
        let body = ByteBuffer(repeating: UInt8(ascii: "y"), count: 64)
        for request in 0..<ExportRecorder.handOffCount {
            #expect(spool.taken.isEmpty)
            var record = RequestRecord(ticket: SendTicket(request: request), startNs: 1, batchSize: 1)
            record.endNs = 2
            record.body = body
            recorder.record(record)
        }
        #expect(spool.taken.map(\.entries.count) == [ExportRecorder.handOffCount])
        #expect(spool.taken.first?.bodyBytes == 64 * ExportRecorder.handOffCount)
    }

    @Test("records of a window not yet measured wait with it, however large")
    func undecidedWindowsWait() {
        let spool = KeepingSpool()
        let recorder = ExportRecorder(spool: spool)
        let answers = ExportRecorder.handOffBytes / (500 * 240) + 2
        for request in 0..<answers { recorder.record(streamedRecord(request, events: 500, eventBytes: 240)) }
        #expect(spool.taken.isEmpty)
        recorder.decide(measured: true)
        #expect(spool.taken.map(\.entries.count) == [answers])
    }
}
