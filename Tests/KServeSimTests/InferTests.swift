import KServeProtocol
import KServeSim
import NIOCore
import NIOHTTP1
import Testing

@Suite("Inference")
struct InferTests {
    static let batchOfTwo: [Float] = sixteen + sixteen.map { -$0 * 3 }

    @Test func binaryIdentityBatchOfTwo() async throws {
        try await withSimulator { client in
            let request = InferRequest(
                id: "req-1", parameters: ["binary_data_output": .bool(true)],
                binaryInputs: [("INPUT0", .fp32, [2, 16], rawBytes(Self.batchOfTwo))])
            let response = try await client.infer("identity_fp32", request)
            #expect(response.status == .ok)
            #expect(response.headers.first(name: BinaryTensorHeader.headerContentLength) != nil)
            let decoded = try response.inferResponse()
            #expect(decoded.header.model_name == "identity_fp32")
            #expect(decoded.header.model_version == "1")
            #expect(decoded.header.id == "req-1")
            let output = try #require(decoded.output("OUTPUT0"))
            #expect(output.shape == [2, 16])
            #expect(output.datatype == "FP32")
            #expect(output.binaryDataSize == 128)
            #expect(output.data == nil)
            #expect(floats(try #require(decoded.binaryOutputs["OUTPUT0"])) == Self.batchOfTwo)
        }
    }

    @Test func jsonIdentityBatchOfTwo() async throws {
        try await withSimulator { client in
            let nested: JSONValue = .array([
                .array(sixteen.map { .double(Double($0)) }),
                .array(sixteen.map { .double(Double(-$0 * 3)) }),
            ])
            let response = try await client.infer("identity_fp32", InferRequest(jsonInputs: [("INPUT0", .fp32, [2, 16], nested)]))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: BinaryTensorHeader.headerContentLength) == nil)
            #expect(response.headers.first(name: "content-type") == "application/json")
            let decoded = try response.inferResponse()
            #expect(decoded.header.id == nil)
            #expect(decoded.output("OUTPUT0")?.shape == [2, 16])
            #expect(decoded.binaryOutputs.isEmpty)
            #expect(try decoded.values("OUTPUT0").map { Float($0.doubleValue) } == Self.batchOfTwo)
        }
    }

    @Test func binaryInputJSONOutputAndRepeatedHeader() async throws {
        try await withSimulator { client in
            try await client.withConnection { connection in
                // The same header twice on one connection: the second uses the cached plan
                // and must still read its own tensor bytes.
                for scale in [Float(1), 7] {
                    let values = sixteen.map { $0 * scale }
                    let request = InferRequest(binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(values))])
                    let response = try await connection.send(request.httpRequest(model: "identity_fp32"))
                    #expect(response.status == .ok)
                    let decoded = try response.inferResponse()
                    #expect(decoded.binaryOutputs.isEmpty)
                    #expect(try decoded.values("OUTPUT0").map { Float($0.doubleValue) } == values)
                }
            }
        }
    }

    @Test func addSubValuesWrapAround() async throws {
        try await withSimulator { client in
            let lhs: [Int32] = [1, 2, Int32.max, Int32.min, 10, 20, 30, 40]
            let rhs: [Int32] = [10, 20, 1, 1, -5, 5, -30, 0]
            let request = InferRequest(
                parameters: ["binary_data_output": .bool(true)],
                binaryInputs: [("INPUT0", .int32, [2, 4], rawBytes(lhs)), ("INPUT1", .int32, [2, 4], rawBytes(rhs))])
            let decoded = try await client.infer("add_sub", request).inferResponse()
            #expect(try decoded.int32Values("OUTPUT0") == zip(lhs, rhs).map { Int64($0 &+ $1) })
            #expect(try decoded.int32Values("OUTPUT1") == zip(lhs, rhs).map { Int64($0 &- $1) })
            #expect(decoded.output("OUTPUT1")?.shape == [2, 4])
        }
    }

    @Test func requestedOutputsChooseWhatAndHow() async throws {
        try await withSimulator { client in
            let request = InferRequest(
                jsonInputs: [("INPUT0", .int32, [1, 4], .array([1, 2, 3, 4].map(JSONValue.int))),
                             ("INPUT1", .int32, [1, 4], .array([1, 1, 1, 1].map(JSONValue.int)))],
                outputs: [.init(name: "OUTPUT1", parameters: ["binary_data": .bool(true)])])
            let response = try await client.infer("add_sub", request)
            #expect(response.status == .ok)
            let decoded = try response.inferResponse()
            #expect(decoded.header.outputs.map(\.name) == ["OUTPUT1"])
            #expect(decoded.binaryOutputs["OUTPUT1"] != nil)
            #expect(try decoded.int32Values("OUTPUT1") == [0, 1, 2, 3])
        }
    }

    @Test func dynamicInt32KeepsItsShape() async throws {
        try await withSimulator { client in
            let values: [Int32] = [5, -6, 7, 8, 9, 10]
            let request = InferRequest(binaryInputs: [("INPUT0", .int32, [2, 3], rawBytes(values))])
            let decoded = try await client.infer("identity_int32_dynamic", request).inferResponse()
            #expect(decoded.output("OUTPUT0")?.shape == [2, 3])
            #expect(try decoded.int32Values("OUTPUT0") == values.map(Int64.init))
        }
    }

    @Test func bytesRoundTripBinaryAndJSON() async throws {
        try await withSimulator { client in
            let strings = ["alpha", "", "γ\"quoted\"", "line\nbreak"]
            let binary = InferRequest(
                parameters: ["binary_data_output": .bool(true)],
                binaryInputs: [("INPUT0", .bytes, [4], rawBytes(strings: strings))])
            let fromBinary = try await client.infer("identity_bytes", binary).inferResponse()
            #expect(fromBinary.binaryOutputs["OUTPUT0"].map { Array($0.readableBytesView) } == rawBytes(strings: strings))
            #expect(try fromBinary.values("OUTPUT0") == strings.map(JSONValue.string))

            let json = InferRequest(jsonInputs: [("INPUT0", .bytes, [4], .array(strings.map(JSONValue.string)))])
            let fromJSON = try await client.infer("identity_bytes", json).inferResponse()
            #expect(try fromJSON.values("OUTPUT0") == strings.map(JSONValue.string))
        }
    }

    @Test func doubleAndEnsembleDoubleTheInput() async throws {
        try await withSimulator { client in
            for model in ["double_fp32", "ensemble_fp32"] {
                let request = InferRequest(
                    parameters: ["binary_data_output": .bool(true)],
                    binaryInputs: [("INPUT0", .fp32, [2, 16], rawBytes(Self.batchOfTwo))])
                let decoded = try await client.infer(model, request).inferResponse()
                #expect(decoded.header.model_name == model)
                #expect(decoded.output("OUTPUT0")?.shape == [2, 16])
                #expect(floats(try #require(decoded.binaryOutputs["OUTPUT0"])) == Self.batchOfTwo.map { $0 * 2 })
            }
        }
    }

    @Test func pipelinedDelayedRequestsAnswerInOrder() async throws {
        try await withSimulator(delayMicroseconds: 3000) { client in
            try await client.withConnection { connection in
                let ids = (0..<4).map { "p\($0)" }
                for id in ids {
                    try await connection.write(InferRequest(
                        id: id, binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))]).httpRequest(model: "identity_fp32"))
                }
                var answered: [String?] = []
                for _ in ids { answered.append(try await connection.readResponse().inferResponse().header.id) }
                #expect(answered == ids)
            }
        }
    }
}

extension JSONValue {
    var doubleValue: Double {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        case .uint(let value): return Double(value)
        default: return .nan
        }
    }
}
