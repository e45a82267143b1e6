import Foundation
import KServeGRPC
import NIOCore
import Testing
@testable import PerfAnalyzerKit

private func options(idStart: UInt64 = 1, idEnd: UInt64? = nil, length: Int? = nil, variation: Double = 20) -> SequenceOptions {
    var options = SequenceOptions()
    options.idStart = idStart
    options.idEnd = idEnd
    options.length = length
    options.lengthVariationPercent = variation
    return options
}

@Suite("Sequences: IDs, lengths, streams and the parameters on the wire")
struct SequenceTests {
    @Test("IDs come from the range in turn and skip live ones; a range too small is refused")
    func ids() throws {
        let source = SequenceSource(streams: [0..<1], streamsSetLength: false, options: options(idStart: 5, idEnd: 8, length: 3, variation: 0))
        let first = source.begin(), second = source.begin(), third = source.begin()
        #expect([first.id, second.id, third.id] == [5, 6, 7])
        source.release(6)
        // 5 and 7 are still live: the next sequence gets 6.
        #expect(source.begin().id == 6)
        try source.check(liveSequences: 3)
        let error = #expect(throws: SequenceSource.IDRangeTooSmall.self) { try source.check(liveSequences: 4) }
        #expect(error?.description == "--sequence-id-range 5:8 holds 3 correlation IDs, but 4 sequences run at once; widen the range so live sequences never share an ID")
    }

    @Test("lengths: --sequence-length varies by up to the variation either way; JSON streams set their own")
    func lengths() {
        let varied = SequenceSource(streams: [0..<1], streamsSetLength: false, options: options(length: 20, variation: 20))
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let start = varied.begin()
            varied.release(start.id)
            seen.insert(start.length)
        }
        // An offset within ±20% of 20, truncated toward zero (as perf_analyzer computes it): 17 to 23.
        #expect(seen == Set(17...23), "saw \(seen.sorted())")
        let fixed = SequenceSource(streams: [0..<1], streamsSetLength: false, options: options(length: 7, variation: 0))
        #expect(fixed.begin().length == 7)
        #expect(SequenceSource(streams: [0..<1], streamsSetLength: false, options: options()).begin().length >= 16)

        let streams = SequenceSource(streams: [0..<3, 3..<5], streamsSetLength: true, options: options())
        var chosen: [Range<Int>: Int] = [:]
        for _ in 0..<400 {
            let start = streams.begin()
            streams.release(start.id)
            #expect(start.length == start.steps.count)
            chosen[start.steps, default: 0] += 1
        }
        // Each new sequence picks a stream uniformly, as perf_analyzer does.
        #expect(chosen.count == 2 && chosen.values.allSatisfy { $0 > 120 })
        let looped = SequenceSource(streams: [0..<3], streamsSetLength: true, options: options(length: 5, variation: 0))
        #expect(looped.begin().length == 5)
    }

    @Test("a status plays its stream with START first and END last, loops a short stream, and frees its ID after END")
    func status() {
        let source = SequenceSource(streams: [10..<13], streamsSetLength: true, options: options(idStart: 40, idEnd: 42, length: 5, variation: 0))
        var status = SequenceStatus()
        var sent: [(Int, SequenceMark)] = []
        for _ in 0..<5 {
            let step = status.nextMark(source: source)
            sent.append(step)
            status.ended(step.mark, source: source)
        }
        #expect(sent.map(\.0) == [10, 11, 12, 10, 11])
        #expect(sent.map(\.1.start) == [true, false, false, false, false])
        #expect(sent.map(\.1.end) == [false, false, false, false, true])
        #expect(Set(sent.map(\.1.id)) == [40])
        // The next sequence starts over with the next ID; 40 was released.
        let next = status.nextMark(source: source)
        #expect(next.mark == SequenceMark(id: 41, start: true, end: false))
        #expect(next.request == 10)
        #expect(status.isLive)
        // Closing sends END with the next step, once.
        status.ended(next.mark, source: source)
        let close = status.closingMark()
        #expect(close?.mark == SequenceMark(id: 41, start: false, end: true))
        #expect(close?.request == 11)
        #expect(status.closingMark() == nil)
        #expect(!status.isAvailable(serial: false))
        status.ended(close!.mark, source: source)
        #expect(status.isAvailable(serial: true))
    }

    @Test("a sequence sends nothing after START until START is answered, and END only when nothing else is in flight")
    func ordering() {
        let source = SequenceSource(streams: [0..<1], streamsSetLength: false, options: options(length: 3, variation: 0))
        var status = SequenceStatus()
        let first = status.nextMark(source: source)
        #expect(first.mark.start && !status.isAvailable(serial: false))
        status.ended(first.mark, source: source)
        #expect(status.isAvailable(serial: false))
        let second = status.nextMark(source: source)
        // The next one would be END: it waits for the second to end; serial waits as well.
        #expect(!status.isAvailable(serial: false) && !status.isAvailable(serial: true))
        status.ended(second.mark, source: source)
        #expect(status.nextMark(source: source).mark.end)
    }

    @Test("gRPC: appended entries read back as the request's sequence parameters")
    func protobufEntries() throws {
        var request = Inference_ModelInferRequest()
        request.modelName = "sequence_accumulator"
        var probe = Inference_InferParameter()
        probe.stringParam = "kept"
        request.parameters["other"] = probe
        let body = ByteBuffer(bytes: try request.serializedBytes() as [UInt8])
        for mark in [SequenceMark(id: 1, start: true, end: false), SequenceMark(id: 300_000_000_000, start: false, end: true)] {
            let bytes = SequenceParameters.grpcBody(body, mark: mark)
            let decoded = try Inference_ModelInferRequest(serializedBytes: Array(bytes.readableBytesView))
            #expect(decoded.modelName == "sequence_accumulator")
            #expect(decoded.parameters["sequence_id"]?.int64Param == Int64(mark.id))
            #expect(decoded.parameters["sequence_start"]?.boolParam == mark.start)
            #expect(decoded.parameters["sequence_end"]?.boolParam == mark.end)
            #expect(decoded.parameters["other"]?.stringParam == "kept")
        }
    }

    @Test("HTTP: the parameters go into the JSON header and both lengths follow")
    func httpTemplate() throws {
        let template = HTTPRequestTemplate(headStart: "POST /v2/models/m/infer HTTP/1.1\r\nHost: h\r\n",
                                           headEnd: "X-A: b\r\n\r\n",
                                           jsonAfterBrace: Array(#""inputs":[]}"#.utf8), binaryCount: 4)
        // A prepared request ends with its tensors' bytes; the template takes them from there.
        let prepared = ByteBuffer(bytes: Array("earlier request bytes".utf8) + [1, 2, 3, 4])
        let text = String(buffer: template.render(SequenceMark(id: 12, start: true, end: false), from: prepared))
        let parts = text.components(separatedBy: "\r\n\r\n")
        let body = parts[1].utf8.dropLast(4)
        let json = String(decoding: body, as: UTF8.self)
        #expect(json == #"{"parameters":{"sequence_end":false,"sequence_id":12,"sequence_start":true},"inputs":[]}"#)
        #expect(parts[0].contains("Inference-Header-Content-Length: \(body.count)\r\n"))
        #expect(parts[0].contains("Content-Length: \(body.count + 4)\r\nX-A: b"))
        let decoded = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        #expect((decoded?["parameters"] as? [String: Any])?["sequence_id"] as? Int == 12)
        // Without a mark the request is the plain one.
        #expect(String(buffer: template.render(nil, from: prepared)).hasSuffix("\r\n\r\n{\"inputs\":[]}\u{01}\u{02}\u{03}\u{04}"))
    }
}
