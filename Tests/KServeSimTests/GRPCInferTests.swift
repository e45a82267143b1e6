import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import KServeSim
import Testing

@Suite("gRPC inference")
struct GRPCInferTests {
    static let batchOfTwo: [Float] = sixteen + sixteen.map { -$0 * 3 }

    @Test func identityWithRawContents() async throws {
        try await withGRPCSimulator { context in
            let request = Inference_ModelInferRequest.raw(
                model: "identity_fp32", id: "grpc-1", inputs: [("INPUT0", .fp32, [2, 16], rawBytes(Self.batchOfTwo))])
            let response = try await context.grpc.modelInfer(request)
            #expect(response.modelName == "identity_fp32")
            #expect(response.modelVersion == "1")
            #expect(response.id == "grpc-1")
            #expect(response.outputs.map(\.name) == ["OUTPUT0"])
            #expect(response.outputs.first?.datatype == "FP32")
            #expect(response.outputs.first?.shape == [2, 16])
            #expect(response.rawOutputContents.count == 1)
            #expect(response.floats("OUTPUT0") == Self.batchOfTwo)
        }
    }

    @Test func addSubWithRawAndTypedContents() async throws {
        try await withGRPCSimulator { context in
            let lhs: [Int32] = [1, 2, Int32.max, 40]
            let rhs: [Int32] = [10, 20, 1, -2]
            let raw = Inference_ModelInferRequest.raw(
                model: "add_sub", inputs: [("INPUT0", .int32, [1, 4], rawBytes(lhs)), ("INPUT1", .int32, [1, 4], rawBytes(rhs))])
            let both = try await context.grpc.modelInfer(raw)
            #expect(both.outputs.map(\.name) == ["OUTPUT0", "OUTPUT1"])
            #expect(both.int32s("OUTPUT0") == zip(lhs, rhs).map { $0 &+ $1 })
            #expect(both.int32s("OUTPUT1") == zip(lhs, rhs).map { $0 &- $1 })

            // Typed contents instead of raw bytes, and only one output asked for.
            var typed = Inference_ModelInferRequest()
            typed.modelName = "add_sub"
            for (name, values) in [("INPUT0", lhs), ("INPUT1", rhs)] {
                var input = Inference_ModelInferRequest.InferInputTensor()
                input.name = name
                input.datatype = "INT32"
                input.shape = [1, 4]
                input.contents.intContents = values
                typed.inputs.append(input)
            }
            var output = Inference_ModelInferRequest.InferRequestedOutputTensor()
            output.name = "OUTPUT1"
            typed.outputs = [output]
            let one = try await context.grpc.modelInfer(typed)
            #expect(one.outputs.map(\.name) == ["OUTPUT1"])
            #expect(one.rawOutputContents.count == 1)
            #expect(one.int32s("OUTPUT1") == zip(lhs, rhs).map { $0 &- $1 })
        }
    }

    @Test func bytesTensorsUseLengthPrefixedElements() async throws {
        try await withGRPCSimulator { context in
            let strings = ["alpha", "", "γ"]
            let request = Inference_ModelInferRequest.raw(
                model: "identity_bytes", inputs: [("INPUT0", .bytes, [3], rawBytes(strings: strings))])
            let response = try await context.grpc.modelInfer(request)
            #expect(response.rawOutput("OUTPUT0") == rawBytes(strings: strings))

            // Two elements' worth of bytes for a shape of three is refused.
            let short = Inference_ModelInferRequest.raw(
                model: "identity_bytes", inputs: [("INPUT0", .bytes, [3], rawBytes(strings: ["a", "b"]))])
            let error = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(short) }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func errorsAreStatusesWithTritonLikeMessages() async throws {
        try await withGRPCSimulator { context in
            let unknown = Inference_ModelInferRequest.raw(model: "nope", inputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])
            let notFound = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(unknown) }
            #expect(notFound?.code == .notFound)
            #expect(notFound?.message.contains("'nope'") == true)

            let badShape = Inference_ModelInferRequest.raw(
                model: "identity_fp32", inputs: [("INPUT0", .fp32, [1, 15], rawBytes(Array(sixteen.prefix(15))))])
            let shape = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(badShape) }
            #expect(shape?.code == .invalidArgument)
            #expect(shape?.message.contains("unexpected shape for input 'INPUT0'") == true)

            let badSize = Inference_ModelInferRequest.raw(
                model: "identity_fp32", inputs: [("INPUT0", .fp32, [1, 16], rawBytes(Array(sixteen.prefix(8))))])
            let size = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(badSize) }
            #expect(size?.code == .invalidArgument)
            #expect(size?.message.contains("byte size") == true)

            // The refused requests count as failures of the model they named.
            var statistics = Inference_ModelStatisticsRequest()
            statistics.name = "identity_fp32"
            let stats = try await context.grpc.modelStatistics(statistics).modelStats
            #expect(stats.first?.inferenceStats.fail.count == 2)
            #expect(stats.first?.executionCount == 0)
        }
    }

    @Test func decoupledModelIsRefusedOnUnaryAndHTTP() async throws {
        try await withGRPCSimulator { context in
            let error = await #expect(throws: RPCError.self) {
                try await context.grpc.modelInfer(.repeatDecoupled(2, finalResponse: false))
            }
            #expect(error?.code == .unimplemented)
            #expect(error?.message.contains("ModelInfer RPC doesn't support models with decoupled transaction policy") == true)
            #expect(error?.message.contains("'repeat_decoupled'") == true)

            let http = try await context.http.infer(
                "repeat_decoupled", InferRequest(binaryInputs: [("IN", .int32, [1], rawBytes([Int32(2)]))]))
            #expect(http.status == .badRequest)
            #expect(http.errorMessage?.contains("decoupled") == true)
            #expect(http.errorMessage?.contains("'repeat_decoupled'") == true)
        }
    }

    @Test func statisticsCountGRPCRequestsLikeHTTPOnes() async throws {
        try await withGRPCSimulator { context in
            var statistics = Inference_ModelStatisticsRequest()
            statistics.name = "identity_fp32"
            let before = try #require(try await context.grpc.modelStatistics(statistics).modelStats.first)
            #expect(before.executionCount == 0)

            let request = Inference_ModelInferRequest.raw(model: "identity_fp32", inputs: [("INPUT0", .fp32, [2, 16], rawBytes(Self.batchOfTwo))])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        for _ in 0..<5 { _ = try await context.grpc.modelInfer(request) }
                    }
                }
                try await group.waitForAll()
            }
            let after = try #require(try await context.grpc.modelStatistics(statistics).modelStats.first)
            #expect(after.name == "identity_fp32")
            #expect(after.version == "1")
            #expect(after.executionCount == 20)
            #expect(after.inferenceCount == 40)
            #expect(after.inferenceStats.success.count == 20)
            #expect(after.inferenceStats.computeInfer.count == 20)
            #expect(after.inferenceStats.success.ns > 0)
            #expect(after.lastInference > 0)

            // The HTTP endpoint reports the same book.
            let http = try await context.http.statistics("identity_fp32")
            #expect(http.execution_count.value == after.executionCount)
            #expect(http.inference_count.value == after.inferenceCount)
            #expect(http.inference_stats.success.ns.value == after.inferenceStats.success.ns)

            // An empty name lists every model.
            let all = try await context.grpc.modelStatistics(Inference_ModelStatisticsRequest()).modelStats
            #expect(all.contains { $0.name == "repeat_decoupled" })
            #expect(all.count == ModelCatalog.standard().models.count)
        }
    }

    @Test func sequenceParametersWorkAsOverHTTP() async throws {
        try await withGRPCSimulator { context in
            func request(_ value: Int32, _ parameters: [String: Inference_InferParameter]) -> Inference_ModelInferRequest {
                .raw(model: "sequence_accumulator", parameters: parameters, inputs: [("INPUT", .int32, [1], rawBytes([value]))])
            }
            func step(_ value: Int32, _ parameters: [String: Inference_InferParameter]) async throws -> [Int32]? {
                try await context.grpc.modelInfer(request(value, parameters)).int32s("OUTPUT")
            }
            var sums: [[Int32]?] = []
            sums.append(try await step(5, ["sequence_id": int64Parameter(9), "sequence_start": boolParameter(true)]))
            sums.append(try await step(6, ["sequence_id": stringParameter("nine"), "sequence_start": boolParameter(true)]))
            sums.append(try await step(7, ["sequence_id": int64Parameter(9)]))
            sums.append(try await step(1, ["sequence_id": stringParameter("nine"), "sequence_end": boolParameter(true)]))
            #expect(sums == [[5], [6], [12], [7]])
            // The ended sequence needs START again.
            let orphan = request(1, ["sequence_id": stringParameter("nine")])
            let error = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(orphan) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("START") == true)
        }
    }

    @Test(arguments: [CompressionAlgorithm.gzip, .deflate])
    func compressedCallsWork(_ algorithm: CompressionAlgorithm) async throws {
        try await withGRPCSimulator { context in
            var options = CallOptions.defaults
            options.compression = algorithm
            // Zeros compress well, so the compressed path really carries the data.
            let values = [Float](repeating: 0, count: 16) + sixteen
            let request = Inference_ModelInferRequest.raw(model: "double_fp32", inputs: [("INPUT0", .fp32, [2, 16], rawBytes(values))])
            let (response, encoding) = try await context.grpc.modelInfer(request, options: options) { response in
                (try response.message, response.metadata[stringValues: "grpc-encoding"].first(where: { _ in true }))
            }
            #expect(response.floats("OUTPUT0") == values.map { $0 * 2 })
            // The client accepts every algorithm, so the server compresses its answer too.
            #expect(encoding != nil && encoding != "identity")
        }
    }
}
