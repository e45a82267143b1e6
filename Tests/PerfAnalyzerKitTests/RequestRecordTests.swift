import NIOCore
import Testing
@testable import PerfAnalyzerKit

/// A slot reuses one record per connection; restarting it must leave nothing of the request
/// before, and the run's completion count must add up over its loops.
@Suite("Request records and completion counts")
struct RequestRecordTests {
    /// Every stored property, by name, in words: a property added later is compared too.
    private func fields(_ record: RequestRecord) -> [String] {
        Mirror(reflecting: record).children.map { "\($0.label ?? "?") = \(String(describing: $0.value))" }
    }

    @Test("a restarted record reads like a new one, whatever the request before left in it")
    func restartClearsEverything() {
        let ticket = SendTicket(request: 3, intendedNs: 11, sequence: SequenceMark(id: 7, start: true, end: false), sequenceIndex: 2)
        var used = RequestRecord(ticket: SendTicket(request: 1, intendedNs: 5, sequence: SequenceMark(id: 9, start: false, end: true)),
                                 startNs: 100, batchSize: 4)
        used.sentNs = 110
        used.firstResponseNs = 150
        used.endNs = 160
        used.responseCount = 12
        used.responses = ResponseLog(keepsBodies: false)
        used.body = ByteBuffer(string: "{}")
        used.bodyHeaderLength = 2
        used.toFirstResponse = true
        used.tokens.streamed = true
        used.tokens.contentEvents = 12
        used.tokens.usageTokens = 30
        used.tokens.firstContentNs = 151
        used.tokens.lastContentNs = 159
        used.sentInputs = [1, 2, 3]
        used.outcome = .serverError("HTTP 500")

        used.restart(ticket: ticket, startNs: 200, batchSize: 2)
        let fresh = RequestRecord(ticket: ticket, startNs: 200, batchSize: 2)
        #expect(fields(used) == fields(fresh))
        #expect(fields(used).count >= 14)
    }

    @Test("each loop counts its own completions; the run's count is their sum and wakes a waiter at its target")
    func completionsAddUpOverLoops() {
        let counters = LoadCounters(loopCount: 3)
        #expect(counters.loopCompletions.count == 3)
        for _ in 0..<4 { counters.recordCompletion(on: counters.loopCompletions[0]) }
        for _ in 0..<2 { counters.recordCompletion(on: counters.loopCompletions[2]) }
        #expect(counters.completed == 6)
        #expect(counters.loopCompletions.map(\.count) == [4, 0, 2])

        counters.milestone.reset()
        counters.notifyAt.store(8, ordering: .sequentiallyConsistent)
        counters.recordCompletion(on: counters.loopCompletions[1])
        #expect(!counters.milestone.isReached)
        counters.recordCompletion(on: counters.loopCompletions[1])
        #expect(counters.milestone.isReached)
    }
}
