import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import KServeSim
import NIOCore
import Testing

/// Each `--fault` mode against a simulator on loopback. HTTP is read byte for byte off a raw
/// connection (``RawConnection``) and gRPC calls carry deadlines, so a broken mode fails a
/// test instead of hanging it.
@Suite("Fault modes")
struct FaultModeTests {
    static let identityHTTP = InferRequest(id: "fault", parameters: ["binary_data_output": .bool(true)],
                                           binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])
        .httpRequest(model: "identity_fp32")
    static let identityGRPC = Inference_ModelInferRequest.raw(
        model: "identity_fp32", id: "fault", inputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])
    static let health = TestRequest(path: "/v2/health/ready")

    /// The answer a client expects from identity_fp32 for ``identityHTTP``.
    static func expectIdentity(_ response: RawHTTPResponse) throws {
        #expect(response.status == 200)
        let decoded = try response.inferResponse()
        #expect(decoded.header.id == "fault")
        #expect(floats(try #require(decoded.binaryOutputs["OUTPUT0"])) == sixteen)
    }

    static func statistics(port: Int) async throws -> ModelStatistics {
        let response = try await rawExchange(port: port, TestRequest(path: "/v2/models/identity_fp32/stats"))
        return try #require(try response.decode(StatisticsResponse.self).model_stats.first)
    }

    static func elapsed(since start: ContinuousClock.Instant) -> Duration { ContinuousClock().now - start }

    @Test func silentListenersAcceptConnectionsAndNeverSpeak() async throws {
        let simulator = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1,
                                                             fault: SimulatorFault(.silent)))
        let httpPort = try await simulator.start()
        do {
            let grpcPort = try #require(simulator.grpcPort)
            // An HTTP request, and the HTTP/2 preface that any gRPC server answers with SETTINGS.
            let greetings = [(httpPort, RawHTTPResponse.requestBytes(Self.health)),
                             (grpcPort, ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))]
            for (port, greeting) in greetings {
                let heard = try await RawConnection.with(port: port) { connection in
                    try await connection.send(greeting)
                    return try await connection.wait(atMost: .seconds(1))
                }
                #expect(heard.bytes.isEmpty, "port \(port) sent \(heard.bytes.count) bytes")
                #expect(!heard.closed, "port \(port) closed the connection")
            }
        } catch {
            try? await simulator.stop()
            throw error
        }
        try await simulator.stop()
    }

    @Test func stallAnswersTheFirstRequestsThenLeavesTheConnectionSilent() async throws {
        let record = FileManager.default.temporaryDirectory
            .appendingPathComponent("kserve-sim-stall-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: record) }
        try await withSimulator(recordPath: record, fault: SimulatorFault(.stall, after: 2)) { client in
            for _ in 0..<2 {
                try Self.expectIdentity(try await rawExchange(port: client.port, Self.identityHTTP))
            }
            let heard = try await RawConnection.with(port: client.port) { connection in
                try await connection.send(RawHTTPResponse.requestBytes(Self.identityHTTP))
                let heard = try await connection.wait(atMost: .seconds(1))
                // Control calls still answer, on a connection of their own, while that one waits.
                #expect(try await rawExchange(port: client.port, Self.health).status == 200)
                return heard
            }
            #expect(heard.bytes.isEmpty, "the stalled request got \(heard.bytes.count) bytes")
            #expect(!heard.closed, "the stalled connection was closed")

            let stats = try await Self.statistics(port: client.port)
            #expect(stats.inference_stats.success.count.value == 2)
            #expect(stats.inference_stats.fail.count.value == 1, "a stalled request counts as a failure")
            #expect(stats.execution_count.value == 2, "a stalled request never runs")
        }
        #expect(try RecordedLine.read(record).map(\.fault) == [nil, nil, "stall"])
    }

    @Test func stallHoldsGRPCCallsAndStreamsWithoutAStatus() async throws {
        try await withGRPCSimulator(fault: SimulatorFault(.stall, after: 1)) { context in
            let first = try await context.grpc.modelInfer(Self.identityGRPC, options: failFast())
            #expect(first.floats("OUTPUT0") == sixteen)

            let start = ContinuousClock().now
            let unary = await #expect(throws: RPCError.self) {
                try await context.grpc.modelInfer(Self.identityGRPC, options: failFast(seconds: 1))
            }
            #expect(unary?.code == .deadlineExceeded, "\(String(describing: unary))")
            #expect(Self.elapsed(since: start) >= .milliseconds(900), "nothing ended the call before its deadline")
            #expect(try await context.grpc.serverReady(Inference_ServerReadyRequest(), options: failFast()).ready)

            let streamed = await #expect(throws: RPCError.self) {
                try await context.grpc.withStream(options: failFast(seconds: 1)) { stream in
                    stream.send(Self.identityGRPC)
                    _ = try await stream.next()
                }
            }
            #expect(streamed?.code == .deadlineExceeded, "\(String(describing: streamed))")
        }
    }

    @Test func garbageAnswersWithABodyThatIsNotJSON() async throws {
        let record = FileManager.default.temporaryDirectory
            .appendingPathComponent("kserve-sim-garbage-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: record) }
        try await withGRPCSimulator(recordPath: record, fault: SimulatorFault(.garbage, after: 1)) { context in
            let port = context.http.port
            try Self.expectIdentity(try await rawExchange(port: port, Self.identityHTTP))
            let garbage = try await rawExchange(port: port, Self.identityHTTP)
            #expect(garbage.status == 200)
            #expect(garbage.text == "this is not a KServe answer")
            #expect(garbage.header("content-type") == "text/plain")
            #expect(garbage.header("content-length") == String(garbage.body.count))
            #expect(garbage.header(BinaryTensorHeader.headerContentLength) == nil)
            #expect(throws: (any Error).self) { _ = try JSONSerialization.jsonObject(with: Data(garbage.body)) }

            // HTTP only: gRPC refuses the call rather than answer as if nothing were wrong.
            let refused = await #expect(throws: RPCError.self) {
                try await context.grpc.modelInfer(Self.identityGRPC, options: failFast())
            }
            #expect(refused?.code == .unimplemented)

            let stats = try await Self.statistics(port: port)
            #expect(stats.inference_stats.success.count.value == 2, "the garbage answer's model ran")
            #expect(stats.inference_stats.fail.count.value == 1, "the refused gRPC call")
        }
        // The normal HTTP answer, the garbage one, the refused gRPC call.
        #expect(try RecordedLine.read(record).map(\.fault) == [nil, "garbage", "garbage"])
    }

    @Test func wrongShapeAnswersSomethingThatIsNoInferenceResponse() async throws {
        try await withGRPCSimulator(fault: SimulatorFault(.wrongShape)) { context in
            let answer = try await rawExchange(port: context.http.port, Self.identityHTTP)
            #expect(answer.status == 200)
            #expect(answer.text == #"{"result":"ok"}"#)
            #expect(answer.header("content-type") == "application/json")
            #expect(answer.header("content-length") == String(answer.body.count))
            #expect(answer.header(BinaryTensorHeader.headerContentLength) == nil)
            #expect(throws: (any Error).self) { _ = try answer.inferResponse() }

            let unary = try await context.grpc.modelInfer(Self.identityGRPC, options: failFast())
            #expect(unary.modelName == "identity_fp32")
            #expect(unary.id == "fault")
            #expect(unary.outputs.isEmpty)
            #expect(unary.rawOutputContents.isEmpty)

            let streamed = try await context.grpc.withStream { stream in
                stream.send(Self.identityGRPC)
                return try await stream.next()
            }
            #expect(streamed.errorMessage.isEmpty)
            #expect(streamed.inferResponse.id == "fault")
            #expect(streamed.inferResponse.outputs.isEmpty)
            #expect(streamed.inferResponse.rawOutputContents.isEmpty)
        }
    }

    @Test func shortBodyClaimsAHeaderLongerThanTheBody() async throws {
        try await withGRPCSimulator(fault: SimulatorFault(.shortBody)) { context in
            let answer = try await rawExchange(port: context.http.port, Self.identityHTTP)
            #expect(answer.status == 200)
            #expect(answer.header("content-length") == String(answer.body.count))
            let claimed = try #require(answer.header(BinaryTensorHeader.headerContentLength).flatMap { Int($0) })
            #expect(claimed == answer.body.count + 100)
            #expect(answer.body.first == UInt8(ascii: "{"), "the answer's own JSON header comes first")
            #expect(throws: (any Error).self) { _ = try answer.inferResponse() }

            let refused = await #expect(throws: RPCError.self) {
                try await context.grpc.modelInfer(Self.identityGRPC, options: failFast())
            }
            #expect(refused?.code == .unimplemented)
            let streamed = try await context.grpc.withStream { stream in
                stream.send(Self.identityGRPC)
                return try await stream.next()
            }
            #expect(streamed.errorMessage.contains("HTTP only"), "\(streamed.errorMessage)")
            #expect(streamed.inferResponse.id == "fault")
        }
    }

    @Test func slowBytesSendsTheRightAnswerInSmallPiecesAndLate() async throws {
        let delay = 50
        try await withGRPCSimulator(fault: SimulatorFault(.slowBytes, delayMilliseconds: delay)) { context in
            try await RawConnection.with(port: context.http.port) { connection in
                let start = ContinuousClock().now
                try await connection.send(RawHTTPResponse.requestBytes(Self.identityHTTP))
                let early = try await connection.wait(atMost: .milliseconds(2 * delay))
                let earlyAt = Self.elapsed(since: start)
                let whole = try await connection.wait(atMost: .seconds(20)) { RawHTTPResponse.parse($0.bytes) != nil }
                let elapsed = Self.elapsed(since: start)
                let response = try #require(RawHTTPResponse.parse(whole.bytes), "got \(whole.bytes.count) bytes")
                try Self.expectIdentity(response)
                // The head and the body go out in pieces of their own, so at least this many pauses.
                let pieces = (response.wireLength + SimulatorFault.slowPieceBytes - 1) / SimulatorFault.slowPieceBytes
                #expect(pieces >= 11, "a small answer takes a second at the default delay")
                #expect(elapsed >= .milliseconds(delay * (pieces - 1)), "\(elapsed) for \(pieces) pieces")
                // On a loaded machine the early look may come late; it must then have waited as long as the pieces take.
                #expect(early.bytes.count < response.wireLength || earlyAt >= .milliseconds(delay * (pieces - 1)),
                        "the answer was still coming in")
            }

            let start = ContinuousClock().now
            let unary = try await context.grpc.modelInfer(Self.identityGRPC, options: failFast())
            #expect(unary.floats("OUTPUT0") == sixteen)
            #expect(Self.elapsed(since: start) >= .milliseconds(delay * SimulatorFault.grpcSlowPauses))
        }
    }

    @Test(arguments: [SimulatorFault(.stall, after: -1), SimulatorFault(.slowBytes, delayMilliseconds: -1),
                      SimulatorFault(.slowBytes, delayMilliseconds: .max)])
    func negativeFaultSettingsDoNotStart(_ fault: SimulatorFault) async throws {
        let simulator = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1, fault: fault))
        await #expect(throws: SimulatorError.self) { try await simulator.start() }
        #expect(simulator.httpPort == nil)
    }
}
