import KServeProtocol
import KServeSim
import NIOHTTP1
import Testing

@Suite("Sequence accumulator")
struct SequenceTests {
    static func step(_ value: Int32, id: JSONValue?, start: Bool = false, end: Bool = false) -> InferRequest {
        var parameters: [String: JSONValue] = ["sequence_start": .bool(start), "sequence_end": .bool(end)]
        if let id { parameters["sequence_id"] = id }
        return InferRequest(parameters: parameters, binaryInputs: [("INPUT", .int32, [1], rawBytes([value]))])
    }

    @Test func sumsPerSequenceAndForgetsEndedOnes() async throws {
        try await withSimulator { client in
            func send(_ request: InferRequest) async throws -> [Int64] {
                let response = try await client.infer("sequence_accumulator", request)
                #expect(response.status == .ok, "\(response.text)")
                return try response.inferResponse().int32Values("OUTPUT")
            }
            // Two sequences interleaved, one with a numeric id and one with a string id.
            #expect(try await send(Self.step(1, id: .int(7), start: true)) == [1])
            #expect(try await send(Self.step(100, id: .string("seven"), start: true)) == [100])
            #expect(try await send(Self.step(2, id: .int(7))) == [3])
            #expect(try await send(Self.step(200, id: .string("seven"))) == [300])
            #expect(try await send(Self.step(3, id: .int(7), end: true)) == [6])

            // Sequence 7 has ended: a request without START is refused, as Triton refuses it.
            let orphan = try await client.infer("sequence_accumulator", Self.step(4, id: .int(7)))
            #expect(orphan.status == .badRequest)
            #expect(orphan.errorMessage == "inference request for sequence 7 to model 'sequence_accumulator' must specify the START flag on the first request of the sequence")

            // START on a live sequence resets it.
            #expect(try await send(Self.step(5, id: .string("seven"), start: true)) == [5])
            // A one-request sequence.
            #expect(try await send(Self.step(9, id: .int(8), start: true, end: true)) == [9])
            #expect(try await client.infer("sequence_accumulator", Self.step(1, id: .int(8))).status == .badRequest)
        }
    }

    @Test func correlationIDIsRequired() async throws {
        try await withSimulator { client in
            for id in [nil, JSONValue.int(0), .string("")] {
                let response = try await client.infer("sequence_accumulator", Self.step(1, id: id, start: true))
                #expect(response.status == .badRequest)
                #expect(response.errorMessage == "inference request to model 'sequence_accumulator' must specify a non-zero or non-empty correlation ID")
            }
        }
    }

    @Test func sequenceStoreSemantics() throws {
        let store = SequenceStore<Int>(initial: 10)
        let id = CorrelationID.number(3)
        #expect(throws: InferError.self) { try store.advance(SequenceControl(id: id, start: false, end: false), modelName: "m") { $0 } }
        #expect(try store.advance(SequenceControl(id: id, start: true, end: false), modelName: "m") { state -> Int in state += 1; return state } == 11)
        #expect(store.liveSequences == 1)
        #expect(try store.advance(SequenceControl(id: id, start: false, end: true), modelName: "m") { state -> Int in state += 1; return state } == 12)
        #expect(store.liveSequences == 0)
    }
}
