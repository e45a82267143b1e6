import NIOCore
import Testing
@testable import PerfAnalyzerKit

@Suite("Profile export: request entries")
struct ExportEntryEncoderTests {
    @Test("an OpenAI entry: epoch times, the sequence id, and each event's text quoted")
    func openAIEntry() {
        var encoder = ExportEntryEncoder(requestInputs: [Array("{\"payload\":\"p\"}".utf8)], wire: .openAI)
        let offset = encoder.wallOffsetNs
        var batch = ExportBatch()
        batch.responseTimesNs = [1_000, 2_000, 3_000]
        batch.bodies = ["data: {\"a\":\"b\\n\"}\n\n", "data: [DONE]\n\n"].map { ExportBatch.Body(bytes: ByteBuffer(string: $0), headerLength: nil) }
        let entry = ExportBatch.Entry(request: 0, sequenceID: 12, startNs: 500, firstResponse: 0, responseCount: 3)
        var out: [UInt8] = []
        encoder.append(entry, of: batch, to: &out)
        let expected = "{\"timestamp\":\(500 + offset),\"sequence_id\":12,\"request_inputs\":{\"payload\":\"p\"},"
            + "\"response_timestamps\":[\(1_000 + offset),\(2_000 + offset),\(3_000 + offset)],"
            + "\"response_outputs\":[{\"response\":\"data: {\\\"a\\\":\\\"b\\\\n\\\"}\\n\\n\"},{\"response\":\"data: [DONE]\\n\\n\"},{}]}"
        #expect(String(decoding: out, as: UTF8.self) == expected)
        // Without a sequence or responses, the keys perf_analyzer leaves out stay out.
        encoder = ExportEntryEncoder(requestInputs: [Array("{}".utf8)], wire: .openAI)
        out = []
        encoder.append(ExportBatch.Entry(request: 0, sequenceID: 0, startNs: 1, firstResponse: 0, responseCount: 0), of: ExportBatch(), to: &out)
        #expect(String(decoding: out, as: UTF8.self)
            == "{\"timestamp\":\(1 + encoder.wallOffsetNs),\"request_inputs\":{},\"response_timestamps\":[],\"response_outputs\":[]}")
    }
}
