import Foundation
import KServeProtocol
import KServeSim
import NIOCore
import Testing

/// `--record` lines of OpenAI requests, and the OpenAI flags of the `kserve-sim` binary.
@Suite("OpenAI record and command line")
struct OpenAIRecordTests {
    @Test func recordLinesSayWhatCameInAndWhenTokensWentOut() async throws {
        let record = temporaryRecordPath("openai")
        defer { try? FileManager.default.removeItem(atPath: record) }
        let settings = OpenAISettings(timeToFirstToken: .milliseconds(15), interTokenLatency: .milliseconds(5))
        let streamed = chatBody(content: "three words here", extra: #""stream":true,"max_tokens":4"#)
        let whole = completionBody(extra: #""max_tokens":2"#)
        try await withSimulator(recordPath: record, openAI: settings) { client async throws in
            let answer = try await client.stream("/v1/chat/completions", json: streamed)
            #expect(answer.events.count == 7)
            // The line is in the file once the client has its answer.
            #expect(try recordedObjects(record).count == 1)
            #expect(try await client.post("/v1/completions", json: whole).status == .ok)
            #expect(try await client.send(TestRequest(method: .POST, path: "/v1/embeddings", headers: [("X-Trace", "abc")],
                                                      body: ByteBuffer(string: "{broken"))).status == .badRequest)
        }
        let lines = try recordedObjects(record)
        try #require(lines.count == 3)

        let first = lines[0]
        #expect(first["endpoint"] as? String == "/v1/chat/completions")
        #expect(first["model"] as? String == "sim-llm")
        #expect(first["body"] as? String == streamed)
        #expect(first["stream"] as? Bool == true)
        #expect(first["prompt_tokens"] as? Int == 3)
        #expect(first["tokens_sent"] as? Int == 4)
        #expect(first["status"] as? Int == 200)
        #expect(first["succeeded"] as? Bool == true)
        #expect(first["fault"] == nil)
        let firstToken = try #require(first["first_token_ns"] as? Int)
        let lastToken = try #require(first["last_token_ns"] as? Int)
        #expect(firstToken >= 15_000_000 && firstToken < 1_000_000_000, "first token at \(firstToken) ns")
        // Token 3 is due at 15 + 3 × 5 ms.
        #expect(lastToken >= 30_000_000 && lastToken >= firstToken, "last token at \(lastToken) ns")
        #expect((first["time_ns"] as? Int ?? 0) > 0)

        let second = lines[1]
        #expect(second["endpoint"] as? String == "/v1/completions")
        #expect(second["stream"] as? Bool == false)
        #expect(second["tokens_sent"] as? Int == 2)
        let wholeAt = try #require(second["last_token_ns"] as? Int)
        #expect(wholeAt >= 20_000_000, "a whole answer of 2 tokens leaves at 15 + 5 ms, not \(wholeAt) ns")
        #expect(second["first_token_ns"] as? Int == wholeAt)

        let third = lines[2]
        #expect(third["endpoint"] as? String == "/v1/embeddings")
        #expect(third["body"] as? String == "{broken")
        #expect(third["status"] as? Int == 400)
        #expect(third["succeeded"] as? Bool == false)
        #expect(third["tokens_sent"] as? Int == 0)
        #expect(third["prompt_tokens"] == nil)
        #expect(third["first_token_ns"] == nil)
        #expect((third["headers"] as? [String: String])?["x-trace"] == "abc")
    }

    /// `arrived_ns` is the wake-up that read this request, not an earlier one of the connection:
    /// the client's clock (the same monotonic clock) brackets it with `time_ns`.
    @Test func arrivalIsBetweenTheSendAndTheBodyBeingRead() async throws {
        let record = temporaryRecordPath("openai-arrival")
        defer { try? FileManager.default.removeItem(atPath: record) }
        let body = completionBody(extra: #""max_tokens":1"#)
        let bounds = try await withSimulator(recordPath: record) { client async throws in
            try await client.withConnection { connection async throws in
                var seen: [(sent: UInt64, answered: UInt64)] = []
                for _ in 0..<3 {
                    let sent = MonotonicClock.now()
                    let answer = try await connection.send(TestRequest(method: .POST, path: "/v1/completions",
                                                                       body: ByteBuffer(string: body)))
                    #expect(answer.status == .ok)
                    seen.append((sent, MonotonicClock.now()))
                    try await Task.sleep(for: .milliseconds(10))
                }
                return seen
            }
        }
        let lines = try recordedObjects(record)
        try #require(lines.count == bounds.count)
        for (line, bound) in zip(lines, bounds) {
            let arrived = UInt64(try #require(line["arrived_ns"] as? Int))
            let read = UInt64(try #require(line["time_ns"] as? Int))
            #expect(bound.sent <= arrived && arrived <= read && read <= bound.answered,
                    "sent \(bound.sent), arrived \(arrived), read \(read), answered \(bound.answered)")
        }
    }

    /// The line is written by hand: strings that need escapes come back exactly.
    @Test func recordLineKeepsEscapedAndNonASCIIText() async throws {
        let record = temporaryRecordPath("openai-escapes")
        defer { try? FileManager.default.removeItem(atPath: record) }
        let body = "{\"model\":\"sim-llm\",\"prompt\":\"tab\\there \\\"quoted\\\" back\\\\slash é ✓ \\u0001\",\"max_tokens\":1}\n\t"
        try await withSimulator(recordPath: record) { client async throws in
            let answer = try await client.send(TestRequest(method: .POST, path: "/v1/completions",
                                                           headers: [("X-Note", "a \"b\" \\ c")], body: ByteBuffer(string: body)))
            #expect(answer.status == .ok)
        }
        let lines = try recordedObjects(record)
        try #require(lines.count == 1)
        #expect(lines[0]["body"] as? String == body)
        #expect((lines[0]["headers"] as? [String: String])?["x-note"] == "a \"b\" \\ c")
        #expect(lines[0]["prompt_tokens"] as? Int == 7)
    }

    @Test func faultedRequestsAreRecordedWithTheirFault() async throws {
        let record = temporaryRecordPath("openai-fault")
        defer { try? FileManager.default.removeItem(atPath: record) }
        try await withSimulator(recordPath: record, fault: SimulatorFault(.streamError, after: 1)) { client async throws in
            _ = try await client.stream("/v1/completions", json: completionBody(extra: #""stream":true,"max_tokens":4"#))
            _ = try await client.stream("/v1/completions", json: completionBody(extra: #""stream":true,"max_tokens":4"#))
        }
        let lines = try recordedObjects(record)
        try #require(lines.count == 2)
        #expect(lines[0]["fault"] == nil)
        #expect(lines[0]["tokens_sent"] as? Int == 4)
        #expect(lines[1]["fault"] as? String == "stream-error")
        #expect(lines[1]["tokens_sent"] as? Int == 2)
        #expect(lines[1]["succeeded"] as? Bool == false)
    }

    @Test func binaryTakesTheOpenAIFlags() async throws {
        let server = try CommandLineTests.launch(["--http-port", "0", "--grpc-port", "0", "--threads", "1",
                                                  "--openai-model", "cli-llm", "--openai-output-tokens", "3",
                                                  "--openai-ttft-ms", "0.5", "--openai-itl-ms", "1"])
        let announced = CommandLineTests.lines(server.stdout, count: 2)
        let port = try #require(CommandLineTests.port(in: announced.first, after: "kserve-sim: HTTP listening on 127.0.0.1:"),
                                "got \(announced)")
        let client = TestClient(port: port)
        let models = try await client.get("/v1/models").json()
        #expect((models["data"] as? [JSONObject])?.first?["id"] as? String == "cli-llm")
        let answer = try await client.stream("/v1/completions", json: completionBody(model: "cli-llm", extra: #""stream":true"#))
        #expect(answer.events.count == 3 + 2, "three tokens by default, finish, [DONE]")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(ChildExit.wait(server.process) == .init(code: 0, signal: nil))
    }

    @Test(arguments: [
        (["--openai-output-tokens", "0"], "--openai-output-tokens must be in 1...100000"),
        (["--openai-ttft-ms=-1"], "--openai-ttft-ms must be in 0...3600000"),
        (["--openai-itl-ms", "nan"], "--openai-itl-ms must be in 0...3600000"),
        (["--openai-model", ""], "--openai-model must not be empty"),
    ])
    func badOpenAIValueIsOneLineAndAFailingExit(_ flags: [String], _ expected: String) throws {
        let server = try CommandLineTests.launch(["--http-port", "0", "--grpc-port", "0"] + flags)
        let ended = ChildExit.wait(server.process)
        #expect(ended?.signal == nil && ended?.code != nil && ended?.code != 0, "ended: \(String(describing: ended))")
        let complaint = String(decoding: server.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(complaint.split(separator: "\n").count == 1, "\(complaint)")
        #expect(complaint.hasPrefix("kserve-sim: ") && complaint.contains(expected), "\(complaint)")
    }

    @Test func simulatorRefusesSettingsItCannotServe() async throws {
        for settings in [OpenAISettings(outputTokens: 0), OpenAISettings(modelName: ""),
                         OpenAISettings(interTokenLatency: .seconds(-1))] {
            let simulator = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1, openAI: settings))
            await #expect(throws: SimulatorError.self) { try await simulator.start() }
            try await simulator.stop()
        }
    }
}
