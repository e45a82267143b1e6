import Foundation
import GRPCCore
import KServeProtocol
import KServeSim
import NIOCore
import NIOHTTP1
import Testing

/// The `--fault` modes against OpenAI requests (and the new modes against KServe inference),
/// read off real connections; every wait is bounded.
@Suite("OpenAI fault modes")
struct OpenAIFaultTests {
    static func streamedChat(tokens: Int) -> TestRequest {
        TestRequest(method: .POST, path: "/v1/chat/completions",
                    body: ByteBuffer(string: chatBody(extra: #""stream":true,"max_tokens":\#(tokens)"#)))
    }

    @Test func streamErrorBreaksOffAfterHalfTheTokens() async throws {
        try await withSimulator(fault: SimulatorFault(.streamError, after: 1)) { client async throws in
            // The first request is answered normally.
            let normal = try await client.stream("/v1/chat/completions", json: chatBody(extra: #""stream":true,"max_tokens":6"#))
            #expect(normal.events.count == 9)

            let broken = try await client.withConnection { try await $0.stream(Self.streamedChat(tokens: 6)) }
            #expect(broken.status == .ok)
            // Role, three tokens, the error event, [DONE]; no finish event.
            try #require(broken.events.count == 6, "\(broken.events.map(\.data))")
            let contents = try broken.events[1...3].map { event in
                try #require(((try event.json()["choices"] as? [JSONObject])?.first?["delta"] as? JSONObject)?["content"] as? String)
            }
            #expect(contents == simulatedWords(3))
            let error = try #require(try broken.events[4].json()["error"] as? JSONObject)
            #expect(error["message"] as? String == "simulated failure mid-stream")
            #expect(error["type"] as? String == "InternalServerError")
            #expect(error["code"] as? Int == 500)
            #expect(broken.events[5].isDone)

            // Not streamed: a 500 with the same error.
            let whole = try await client.post("/v1/completions", json: completionBody(extra: #""max_tokens":6"#))
            #expect(whole.status == .internalServerError)
            #expect(try whole.openAIError().message == "simulated failure mid-stream")

            let statistics = try await client.openAIStatistics()
            #expect(statistics["requests"] == 3)
            #expect(statistics["succeeded"] == 1)
            #expect(statistics["failed"] == 2)
            #expect(statistics["completion_tokens"] == 6 + 3)
            #expect(statistics["content_events"] == 6 + 3)
        }
    }

    @Test func streamCutClosesTheConnectionInsideAnEvent() async throws {
        try await withSimulator(fault: SimulatorFault(.streamCut)) { client async throws in
            let heard = try await RawConnection.with(port: client.port) { connection in
                try await connection.send(RawHTTPResponse.requestBytes(Self.streamedChat(tokens: 8)))
                return try await connection.wait(atMost: .seconds(5))
            }
            #expect(heard.closed, "the server closed the connection")
            let separator: [UInt8] = Array("\r\n\r\n".utf8)
            let headEnd = try #require(heard.bytes.indices.first { heard.bytes[$0...].starts(with: separator) })
            let head = String(decoding: heard.bytes[..<headEnd], as: UTF8.self).lowercased()
            #expect(head.hasPrefix("http/1.1 200"))
            #expect(head.contains("transfer-encoding: chunked"))
            let (body, ended) = dechunk(Array(heard.bytes[(headEnd + 4)...]))
            #expect(!ended, "no final chunk")
            let text = String(decoding: body, as: UTF8.self)
            #expect(!text.contains("[DONE]"))
            var events = text.components(separatedBy: "\n\n")
            let last = events.popLast()
            let partial = try #require(last)
            // The role event and four tokens are whole; then the first half of the fifth token's event.
            #expect(events.count == 5, "\(events)")
            #expect(partial.hasPrefix("data: {\"id\":\"chatcmpl-"), "\(partial)")
            #expect(throws: (any Error).self) { _ = try jsonObject(partial.dropFirst(6)) }
            #expect(!text.contains("finish_reason\":\"length"))

            let statistics = try await client.openAIStatistics()
            #expect(statistics["failed"] == 1)
            #expect(statistics["content_events"] == 4)
        }
    }

    @Test func streamCutSendsHalfOfAWholeAnswer() async throws {
        try await withSimulator(fault: SimulatorFault(.streamCut)) { client async throws in
            let heard = try await RawConnection.with(port: client.port) { connection in
                try await connection.send(RawHTTPResponse.requestBytes(TestRequest(
                    method: .POST, path: "/v1/completions", body: ByteBuffer(string: completionBody(extra: #""max_tokens":10"#)))))
                return try await connection.wait(atMost: .seconds(5))
            }
            #expect(heard.closed)
            #expect(RawHTTPResponse.parse(heard.bytes) == nil, "the answer is shorter than its Content-Length")
            let text = String(decoding: heard.bytes, as: UTF8.self)
            let length = try #require(text.lowercased().components(separatedBy: "content-length: ").dropFirst().first?
                .prefix { $0.isNumber }).description
            let bodyBytes = heard.bytes.count - (try #require(text.range(of: "\r\n\r\n")).upperBound.utf16Offset(in: text))
            #expect(bodyBytes == (Int(length) ?? 0) / 2)
        }
    }

    @Test func tooManyRequestsIs429WithRetryAfter() async throws {
        try await withSimulator(fault: SimulatorFault(.tooManyRequests, after: 1)) { client async throws in
            #expect(try await client.post("/v1/embeddings", json: #"{"model":"sim-llm","input":"x"}"#).status == .ok)
            for (path, body) in [("/v1/chat/completions", chatBody(extra: #""stream":true"#)),
                                 ("/v1/completions", "not even JSON")] {
                let response = try await client.post(path, json: body)
                #expect(response.status == .tooManyRequests)
                #expect(response.headers.first(name: "retry-after") == "1")
                let error = try response.openAIError()
                #expect(error.code == 429)
                #expect(error.type == "RateLimitError")
            }
            // KServe inference gets the same status.
            let infer = try await client.infer("identity_fp32", InferRequest(
                binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))]))
            #expect(infer.status == .tooManyRequests)
            #expect(infer.headers.first(name: "retry-after") == "1")
            #expect(try await client.statistics("identity_fp32").inference_stats.fail.count.value == 1)
            #expect(try await client.statistics("identity_fp32").execution_count.value == 0, "a refused request never runs")
            let statistics = try await client.openAIStatistics()
            #expect(statistics["succeeded"] == 1)
            #expect(statistics["failed"] == 2)
        }
    }

    @Test func stallLeavesAnOpenAIRequestUnanswered() async throws {
        try await withSimulator(fault: SimulatorFault(.stall)) { client async throws in
            let heard = try await RawConnection.with(port: client.port) { connection in
                try await connection.send(RawHTTPResponse.requestBytes(Self.streamedChat(tokens: 2)))
                return try await connection.wait(atMost: .milliseconds(500))
            }
            #expect(heard.bytes.isEmpty, "the stalled request got \(heard.bytes.count) bytes")
            #expect(!heard.closed)
            let statistics = try await client.openAIStatistics()
            #expect(statistics["requests"] == 1)
            #expect(statistics["failed"] == 1)
            #expect(statistics["completion_tokens"] == 0)
        }
    }

    @Test func garbageReplacesEvenAStreamedAnswer() async throws {
        try await withSimulator(fault: SimulatorFault(.garbage)) { client async throws in
            let response = try await client.post("/v1/chat/completions", json: chatBody(extra: #""stream":true"#))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type") == "text/plain")
            #expect(response.text == "this is not a KServe answer")
            #expect(try await client.openAIStatistics()["failed"] == 1)
        }
    }

    @Test func slowBytesStillSendsTheWholeStream() async throws {
        try await withSimulator(fault: SimulatorFault(.slowBytes, delayMilliseconds: 1)) { client async throws in
            let answer = try await client.stream("/v1/completions", json: completionBody(extra: #""stream":true,"max_tokens":2"#))
            #expect(answer.events.count == 4)
            #expect(answer.events.last?.isDone == true)
            // An event of some 130 bytes in 16-byte pieces, 1 ms apart.
            #expect(answer.events[0].at >= .milliseconds(5))
        }
    }

    @Test func newModesOnKServeInference() async throws {
        let request = InferRequest(parameters: ["binary_data_output": .bool(true)],
                                   binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])
        try await withSimulator(fault: SimulatorFault(.streamError)) { client async throws in
            let response = try await client.infer("identity_fp32", request)
            #expect(response.status == .internalServerError)
            #expect(response.errorMessage == "simulated failure mid-stream")
        }
        try await withSimulator(fault: SimulatorFault(.streamCut)) { client async throws in
            let heard = try await RawConnection.with(port: client.port) { connection in
                try await connection.send(RawHTTPResponse.requestBytes(request.httpRequest(model: "identity_fp32")))
                return try await connection.wait(atMost: .seconds(5))
            }
            #expect(heard.closed)
            #expect(String(decoding: heard.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            #expect(RawHTTPResponse.parse(heard.bytes) == nil, "fewer bytes than Content-Length")
        }
    }

    @Test func descriptionsNameTheNewModes() {
        #expect(SimulatorFault(.streamError, after: 3).description.hasPrefix(
            "fault stream-error: streamed OpenAI answers to inference requests after the first 3 stop after half their tokens"))
        #expect(SimulatorFault(.streamCut).description.contains("in the middle of an event"))
        #expect(SimulatorFault(.tooManyRequests).description.contains("HTTP 429 with Retry-After: 1"))
        #expect(![SimulatorFault.Mode.streamError, .streamCut, .tooManyRequests].contains { $0.reachesGRPC })
    }
}

/// The new modes are HTTP only: gRPC inference is refused rather than answered as if all were well.
@Suite("OpenAI fault modes over gRPC")
struct OpenAIFaultGRPCTests {
    @Test(arguments: [SimulatorFault.Mode.streamError, .streamCut, .tooManyRequests])
    func grpcInferenceIsRefused(_ mode: SimulatorFault.Mode) async throws {
        try await withGRPCSimulator(fault: SimulatorFault(mode)) { context async throws in
            let refused = await #expect(throws: RPCError.self) {
                try await context.grpc.modelInfer(.raw(model: "identity_fp32", inputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))]),
                                                  options: failFast())
            }
            #expect(refused?.code == .unimplemented)
        }
    }
}
