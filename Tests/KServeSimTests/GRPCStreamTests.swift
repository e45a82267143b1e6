import GRPCCore
import KServeGRPC
import KServeProtocol
import KServeSim
import Testing

@Suite("gRPC streaming and the decoupled model")
struct GRPCStreamTests {
    @Test func decoupledSendsEachResponseThenTheFinalMarker() async throws {
        try await withGRPCSimulator { context in
            let received = try await context.grpc.withStream { stream in
                stream.send(.repeatDecoupled(3, id: "r3", finalResponse: true))
                return try await stream.next(4)
            }
            #expect(received.allSatisfy { $0.errorMessage.isEmpty && $0.hasInferResponse })
            let responses = received.map(\.inferResponse)
            #expect(responses.map(\.id) == ["r3", "r3", "r3", "r3"])
            #expect(responses.map(\.modelName) == Array(repeating: "repeat_decoupled", count: 4))
            #expect(responses.prefix(3).map { $0.int32s("OUT") } == [[3], [3], [3]])
            #expect(responses.prefix(3).map { $0.int32s("IDX") } == [[0], [1], [2]])
            #expect(responses.map(\.finalFlag) == [false, false, false, true])
            #expect(responses[3].outputs.isEmpty)
            #expect(responses[3].rawOutputContents.isEmpty)
        }
    }

    @Test func zeroResponsesGiveOnlyTheFinalMarker() async throws {
        try await withGRPCSimulator { context in
            let received = try await context.grpc.withStream { stream in
                stream.send(.repeatDecoupled(0, finalResponse: true))
                let first = try await stream.next()
                return [first] + (try await stream.finish())
            }
            #expect(received.count == 1)
            #expect(received.first?.inferResponse.finalFlag == true)
            #expect(received.first?.inferResponse.outputs.isEmpty == true)
        }
    }

    @Test func withoutTheFlagOnlyDataResponsesAreSent() async throws {
        try await withGRPCSimulator { context in
            let received = try await context.grpc.withStream { stream in
                stream.send(.repeatDecoupled(2, finalResponse: false))
                // A plain model's request after it: its answer must come straight after the two.
                stream.send(.raw(model: "identity_fp32", id: "after", inputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))]))
                return try await stream.next(3) + (try await stream.finish())
            }
            #expect(received.count == 3)
            #expect(received.prefix(2).map { $0.inferResponse.int32s("IDX") } == [[0], [1]])
            #expect(received.allSatisfy { $0.inferResponse.finalFlag == nil })
            #expect(received.last?.inferResponse.id == "after")
            #expect(received.last?.inferResponse.floats("OUTPUT0") == sixteen)
        }
    }

    @Test func responseCountIsClampedButOutEchoesTheRequest() async throws {
        try await withGRPCSimulator { context in
            let received = try await context.grpc.withStream { stream in
                stream.send(.repeatDecoupled(150, finalResponse: true))
                stream.send(.repeatDecoupled(-4, finalResponse: true))
                return try await stream.next(102) + (try await stream.finish())
            }
            #expect(received.count == 102)
            #expect(received[0..<100].allSatisfy { $0.inferResponse.int32s("OUT") == [150] })
            #expect(received[99].inferResponse.int32s("IDX") == [99])
            #expect(received[100].inferResponse.finalFlag == true)
            #expect(received[101].inferResponse.finalFlag == true)
            #expect(received[101].inferResponse.outputs.isEmpty)
        }
    }

    @Test func plainModelsOnAStreamCarryTheFinalFlagWhenAsked() async throws {
        try await withGRPCSimulator { context in
            let request = Inference_ModelInferRequest.raw(
                model: "add_sub", id: "p", parameters: ["triton_enable_empty_final_response": boolParameter(true)],
                inputs: [("INPUT0", .int32, [1, 4], rawBytes([Int32](arrayLiteral: 1, 2, 3, 4))),
                         ("INPUT1", .int32, [1, 4], rawBytes([Int32](arrayLiteral: 1, 1, 1, 1)))])
            let received = try await context.grpc.withStream { stream in
                stream.send(request)
                return try await stream.next(1) + (try await stream.finish())
            }
            #expect(received.count == 1)
            #expect(received.first?.inferResponse.finalFlag == true)
            #expect(received.first?.inferResponse.int32s("OUTPUT0") == [2, 3, 4, 5])
        }
    }

    @Test func aFailedRequestLeavesTheStreamUsable() async throws {
        try await withGRPCSimulator { context in
            let received = try await context.grpc.withStream { stream in
                stream.send(.raw(model: "identity_fp32", id: "bad", inputs: [("INPUT0", .fp32, [1, 3], rawBytes([Float](arrayLiteral: 1, 2, 3)))]))
                stream.send(.raw(model: "missing_model", id: "unknown", inputs: []))
                stream.send(.repeatDecoupled(1, id: "good", finalResponse: true))
                return try await stream.next(4) + (try await stream.finish())
            }
            #expect(received.count == 4)
            #expect(received[0].errorMessage.contains("unexpected shape for input 'INPUT0'"))
            #expect(received[0].inferResponse.id == "bad")
            #expect(received[1].errorMessage.contains("'missing_model'"))
            #expect(received[1].inferResponse.id == "unknown")
            #expect(received[2].errorMessage.isEmpty)
            #expect(received[2].inferResponse.int32s("OUT") == [1])
            #expect(received[3].inferResponse.finalFlag == true)
            #expect(received[3].inferResponse.id == "good")
        }
    }

    @Test func closeStreamParameterEndsTheStreamWithAnError() async throws {
        try await withGRPCSimulator { context in
            let closing = Inference_ModelInferRequest.raw(
                model: "repeat_decoupled",
                parameters: ["sim_close_stream": boolParameter(true), "triton_enable_empty_final_response": boolParameter(true)],
                inputs: [("IN", .int32, [1], rawBytes([Int32(2)]))])
            let failure = await #expect(throws: RPCError.self) {
                try await context.grpc.withStream { stream in
                    stream.send(.repeatDecoupled(1, finalResponse: true))
                    let before = try await stream.next(2)
                    #expect(before.last?.inferResponse.finalFlag == true)
                    stream.send(closing)
                    _ = try await stream.next()
                }
            }
            #expect(failure?.code == .unavailable)
            #expect(failure?.message.contains("stream closed by request") == true)
            // The server itself is fine.
            let live = try await context.grpc.serverLive(Inference_ServerLiveRequest()).live
            #expect(live)
        }
    }

    @Test func delayAppliesToEachResponseAndOneRequestIsOneExecution() async throws {
        let delay = 20_000
        try await withGRPCSimulator(delayMicroseconds: delay) { context in
            let start = ContinuousClock.now
            let received = try await context.grpc.withStream { stream in
                stream.send(.repeatDecoupled(3, finalResponse: true))
                stream.send(.repeatDecoupled(2, finalResponse: false))
                return try await stream.next(6)
            }
            let elapsed = ContinuousClock.now - start
            #expect(received.count == 6)
            #expect(elapsed >= .microseconds(5 * delay), "five data responses, each after the delay")

            var request = Inference_ModelStatisticsRequest()
            request.name = "repeat_decoupled"
            let stats = try #require(try await context.grpc.modelStatistics(request).modelStats.first)
            #expect(stats.executionCount == 2)
            #expect(stats.inferenceCount == 2)
            #expect(stats.inferenceStats.success.count == 2)
            #expect(stats.inferenceStats.computeInfer.ns >= UInt64(5 * delay) * 1000)
        }
    }
}
