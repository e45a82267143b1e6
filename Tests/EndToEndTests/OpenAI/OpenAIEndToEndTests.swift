import Foundation
import Testing
@testable import PerfAnalyzerKit

/// `--service-kind openai` against kserve-sim's OpenAI endpoints on loopback: what the
/// server counted and recorded is what the report says, and the token metrics agree with the
/// time to first token and the gaps the server was told to keep.
extension EndToEnd {
@Suite("OpenAI service kind against kserve-sim")
struct OpenAIEndToEndTests {
    private static let perf = BuiltTools.perfAnalyzer
    /// The server's timing: first token 20 ms after the request, then one every 2 ms.
    private static let timing = ["--openai-ttft-ms", "20", "--openai-itl-ms", "2"]

    private static func chat(_ content: String, tokens: Int, stream: Bool = true, usage: Bool = true) -> String {
        var body = #"{"model":"sim-llm","messages":[{"role":"user","content":"\#(content)"}],"max_tokens":\#(tokens)"#
        body += stream ? #","stream":true"# : #","stream":false"#
        if stream && usage { body += #","stream_options":{"include_usage":true}"# }
        return body + "}"
    }

    private static func errorLines(_ result: CommandResult) -> [String] {
        result.stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    @Test("streamed chat: counts, tokens and timing agree with the server; CSV, LLM CSV and export written")
    func streamedChat() async throws {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("oa-record-\(UUID().uuidString).jsonl").path
        let sim = try SimulatorProcess(arguments: Self.timing + ["--record", record])
        let data = try openAIInputData([Self.chat("one two three", tokens: 8), Self.chat("four five", tokens: 8)])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let csv = directory.appendingPathComponent("results.csv").path
        let export = directory.appendingPathComponent("export.json").path
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", sim.url, "--input-data", data, "--concurrency-range", "2",
                                                             "--request-count", "30", "-f", csv, "--profile-export-file", export], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("  Service Kind: OPENAI"))
        #expect(out.contains("    Request count: 30"))
        #expect(out.contains("    Streamed requests: 30 of 30 (output tokens from the server's usage blocks)"), "\(out)")
        #expect(out.contains("    Output tokens per request: avg 8.0, p50 8, p99 8, max 8"), "\(out)")

        // The server saw exactly the requests reported, and sent the tokens reported.
        let stats = try await OpenAIServerProbe.statistics(sim)
        #expect(stats.requests == 30 && stats.succeeded == 30)
        #expect(stats.completion_tokens == 240)

        // Time to first token: never below what the server took to send it (its own clock, from
        // the request's arrival), and near the configured 20 ms.
        let lines = try OpenAIServerProbe.records(record)
        #expect(lines.count == 30)
        let serverFirst = lines.compactMap(\.first_token_ns).sorted()
        let ttft = try #require(llmFigure("Time to first token", "p50", in: out))
        #expect(ttft * 1000 >= Double(serverFirst[serverFirst.count / 2]), "client p50 \(ttft) usec, server \(serverFirst)")
        #expect(ttft >= 20_000 && ttft < 35_000, "time to first token p50 \(ttft) usec")
        let gap = try #require(llmFigure("Inter-token latency", "p50", in: out))
        #expect(gap >= 1_500 && gap < 4_000, "inter-token latency p50 \(gap) usec")
        let perToken = try #require(llmFigure("Time per output token", "p50", in: out))
        #expect(perToken >= 1_800 && perToken < 4_000, "time per output token p50 \(perToken) usec")
        #expect(out.contains("(210 gaps"), "30 requests of 8 tokens have 7 gaps each: \(out)")

        // perf_analyzer's CSV, and ours beside it.
        let csvText = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(csvText.hasPrefix("Concurrency,Inferences/Second,Client Send,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency\n"))
        let llm = try String(contentsOfFile: directory.appendingPathComponent("results_llm.csv").path, encoding: .utf8)
        let rows = llm.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        try #require(rows.count == 2)
        let column = { (name: String) -> String in rows[1][rows[0].firstIndex(of: name)!] }
        #expect(column("Concurrency") == "2")
        #expect(column("Requests") == "30" && column("Output Tokens From Usage") == "30" && column("Output Tokens avg") == "8.0")
        #expect(Double(column("Time To First Token p50")).map { abs($0 - ttft) < 1 } == true)

        // The export: every event of every answer, with its text, as perf_analyzer writes them.
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: export))) as! [String: Any]
        #expect(document["service_kind"] as? String == "openai")
        #expect(document["endpoint"] as? String == "v1/chat/completions")
        let experiments = document["experiments"] as! [[String: Any]]
        let requests = experiments.flatMap { $0["requests"] as! [[String: Any]] }
        #expect(requests.count == 30)
        for request in requests {
            let times = request["response_timestamps"] as! [UInt64]
            let outputs = request["response_outputs"] as! [[String: String]]
            // Role chunk, 8 tokens, the finish chunk, usage, [DONE].
            #expect(times.count == 12 && outputs.count == 12)
            #expect(outputs.last?["response"] == "data: [DONE]\n\n")
            #expect(outputs[1]["response"]?.hasPrefix("data: {") == true)
            let payload = (request["request_inputs"] as! [String: String])["payload"]
            #expect(payload == Self.chat("one two three", tokens: 8) || payload == Self.chat("four five", tokens: 8))
        }
    }

    @Test("whole answers: output tokens from usage, no time to first token")
    func wholeAnswers() async throws {
        let sim = try SimulatorProcess(arguments: Self.timing)
        let body = #"{"model":"sim-llm","prompt":"a b c","max_tokens":5,"stream":false}"#
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "/v1/completions",
                                                             "-u", sim.url, "--input-data", try openAIInputData([body]), "--request-count", "20"],
                                                 timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("    Streamed requests: 0 of 20 (output tokens from the server's usage blocks)"), "\(result.stdout)")
        #expect(!result.stdout.contains("Time to first token"))
        #expect(result.stdout.contains("Output tokens per request: avg 5.0"))
        let stats = try await OpenAIServerProbe.statistics(sim)
        #expect(stats.requests == 20 && stats.streamed == 0 && stats.completion_tokens == 100)
    }

    @Test("a stream without usage: tokens are the events with content; the role and finish chunks are not tokens")
    func countedFromEvents() async throws {
        let sim = try SimulatorProcess(arguments: Self.timing)
        let data = try openAIInputData([Self.chat("hello", tokens: 12, usage: false)])
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", sim.url, "--input-data", data, "--request-count", "10"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("(output tokens counted as responses with content: the server sent no usage block)"), "\(result.stdout)")
        #expect(result.stdout.contains("Output tokens per request: avg 12.0, p50 12, p99 12, max 12"), "\(result.stdout)")
        let stats = try await OpenAIServerProbe.statistics(sim)
        #expect(stats.content_events == 120)
    }

    @Test("generated bodies: the server receives the prompt length, max_tokens and streaming asked for")
    func syntheticPayloads() async throws {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("oa-record-\(UUID().uuidString).jsonl").path
        let sim = try SimulatorProcess(arguments: ["--record", record])
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/completions",
                                                             "-u", sim.url, "--synthetic-prompt-words", "40", "--synthetic-output-tokens", "6",
                                                             "--synthetic-entries", "5", "--request-count", "15"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try OpenAIServerProbe.records(record)
        #expect(lines.count == 15)
        #expect(Set(lines.map(\.body)).count == 5, "five different bodies, sent in turn")
        for line in lines {
            #expect(line.endpoint == "/v1/completions" && line.stream && line.tokens_sent == 6 && line.prompt_tokens == 40)
            #expect(line.body.contains(#""stream_options":{"include_usage":true}"#))
        }
        #expect(result.stdout.contains("Output tokens per request: avg 6.0"))
    }

    @Test("goodput counts the requests that met every objective")
    func goodput() async throws {
        let sim = try SimulatorProcess(arguments: Self.timing)
        let data = try openAIInputData([Self.chat("x", tokens: 4)])
        for (objectives, met) in [("ttft:5", "0 of 20"), ("ttft:2000,itl:1000,latency:5000", "20 of 20")] {
            let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                                 "-u", sim.url, "--input-data", data, "--request-count", "20", "--goodput", objectives],
                                                     timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("(\(met) requests met"), "\(objectives): \(result.stdout)")
        }
    }

    @Test("--fixed-schedule sends each entry at its timestamp, once")
    func fixedSchedule() async throws {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("oa-record-\(UUID().uuidString).jsonl").path
        let sim = try SimulatorProcess(arguments: ["--record", record])
        let bodies = (0..<8).map { Self.chat("turn \($0)", tokens: 2) }
        let data = try openAIInputData(bodies, extra: (0..<8).map { "\"timestamp\": [\($0 * 150)]" })
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", sim.url, "--input-data", data, "--fixed-schedule"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("    Request count: 8"))
        let lines = try OpenAIServerProbe.records(record).sorted { $0.time_ns < $1.time_ns }
        #expect(lines.map(\.body) == bodies, "each entry once, in timestamp order")
        let start = lines[0].time_ns
        for (index, line) in lines.enumerated() {
            let offsetMs = Double(line.time_ns - start) / 1e6
            #expect(abs(offsetMs - Double(index * 150)) < 20, "entry \(index) arrived at \(offsetMs) ms")
        }
    }

    @Test("--session-concurrency: each turn carries the chat so far, after its delay; every session once")
    func sessions() async throws {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("oa-record-\(UUID().uuidString).jsonl").path
        let sim = try SimulatorProcess(arguments: ["--openai-ttft-ms", "10", "--record", record])
        func turn(_ text: String, _ session: String, delay: Int?) -> String {
            let body = #"{"model":"sim-llm","messages":[{"role":"user","content":"\#(text)"}],"max_tokens":2}"#
            return "{\"payload\": [\(body)], \"session_id\": [\"\(session)\"]" + (delay.map { ", \"delay\": [\($0)]" } ?? "") + "}"
        }
        let data = try temporaryFile("{\"data\": [" + [turn("a1", "a", delay: 300), turn("a2", "a", delay: nil), turn("b1", "b", delay: 100),
                                                        turn("b2", "b", delay: nil), turn("c1", "c", delay: nil)].joined(separator: ",") + "]}")
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", sim.url, "--input-data", data, "--session-concurrency", "2"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("    Request count: 5"))
        let lines = try OpenAIServerProbe.records(record)
        #expect(lines.count == 5)
        func messages(_ line: OpenAIServerProbe.RecordLine) -> [String] {
            let object = try! JSONSerialization.jsonObject(with: Data(line.body.utf8)) as! [String: Any]
            return (object["messages"] as! [[String: String]]).map { "\($0["role"]!):\($0["content"]!)" }
        }
        let byFirst = Dictionary(grouping: lines) { messages($0).first! }
        let a = try #require(byFirst["user:a1"]).sorted { $0.time_ns < $1.time_ns }
        #expect(a.count == 2)
        // The second turn holds the first, the server's answer (its words) and its own message.
        #expect(messages(a[1]) == ["user:a1", "assistant:the quick ", "user:a2"])
        // It went no sooner than the answer (10 ms) plus the delay (300 ms).
        #expect(a[1].time_ns - a[0].time_ns >= 310_000_000, "\(Double(a[1].time_ns - a[0].time_ns) / 1e6) ms")
        let b = try #require(byFirst["user:b1"]).sorted { $0.time_ns < $1.time_ns }
        #expect(messages(b[1]) == ["user:b1", "assistant:the quick ", "user:b2"])
        #expect(byFirst["user:c1"]?.count == 1, "the third session ran once a slot was free")
    }

    @Test("--session-concurrency refuses data it cannot play: one line each", arguments: [
        (#"{"data": [{"payload": [{"model":"sim-llm","messages":[]}]}]}"#, "data[0] has no 'session_id'"),
        (#"{"data": [{"payload": [{"model":"sim-llm","messages":[]}], "session_id": "a"}, {"payload": [{"model":"sim-llm","messages":[]}], "session_id": "a"}]}"#,
         "data[0] has no 'delay'"),
        (#"{"data": [{"payload": [{"model":"sim-llm","prompt":"x"}], "session_id": "a"}]}"#, "must be an object with a 'messages' array"),
        (#"{"data": [{"payload": [{"model":"sim-llm","messages":[]}], "session_id": "a"}]}"#, "--input-data has 1 session"),
        (#"{"data": [{"payload": [{"model":"sim-llm","messages":[{"role":"user","content":"x"}],"stream":true}], "session_id": "a"}, {"payload": [{"model":"sim-llm","messages":[{"role":"user","content":"y"}]}], "session_id": "b"}]}"#,
         "the answer has no choices[0].message"),
    ])
    func sessionRefusals(file: String, expected: String) async throws {
        let sim = try SimulatorProcess()
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", sim.url, "--input-data", try temporaryFile(file), "--session-concurrency", "2"],
                                                 timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        let lines = Self.errorLines(result)
        #expect(lines.count == 1 && lines[0].contains(expected), "\(lines)")
    }

    @Test("parity with perf_analyzer 2.50's openai kind: same report sections, CSV header and export, the same stream text per request")
    func parity() async throws {
        let reference = try #require(ProcessInfo.processInfo.environment["PERF_ANALYZER_REFERENCE"],
                                     "PERF_ANALYZER_REFERENCE is not set: scripts/test.sh installs perf_analyzer 2.50 and sets it")
        let sim = try SimulatorProcess(arguments: Self.timing)
        let data = try openAIInputData([Self.chat("parity one", tokens: 6), Self.chat("parity two", tokens: 6)])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oa-parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var outputs: [(stdout: String, csv: String, export: [String: Any])] = []
        for (name, tool) in [("ours", Self.perf), ("theirs", reference)] {
            let csv = directory.appendingPathComponent("\(name).csv").path
            let export = directory.appendingPathComponent("\(name).json").path
            let result = try await CommandRunner.run(tool, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                            "-u", sim.url, "--input-data", data, "--async", "--concurrency-range", "2",
                                                            "--request-count", "20", "-f", csv, "--profile-export-file", export], timeout: 120)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: export))) as! [String: Any]
            outputs.append((result.stdout, try String(contentsOfFile: csv, encoding: .utf8), document))
        }
        let (ours, theirs) = (outputs[0], outputs[1])
        #expect(ours.csv.split(separator: "\n").first == theirs.csv.split(separator: "\n").first)
        // The report's structure; our own lines (client CPU and health, the LLM section) left out.
        func skeleton(_ text: String) -> [String] {
            var inLLM = false
            return text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
                if line.hasPrefix("  LLM: ") { inLLM = true; return nil }
                if inLLM, line.hasPrefix("    ") { return nil }
                inLLM = false
                if line.hasPrefix("    Client CPU per request: ") || line.hasPrefix("    Client health: ")
                    || line.hasPrefix("[WARNING] Perf Analyzer is not able") || line.hasPrefix("[WARNING] The client limited") { return nil }
                return String(line.prefix { $0 != ":" && !$0.isNumber })
            }
        }
        #expect(skeleton(ours.stdout) == skeleton(theirs.stdout), "ours:\n\(ours.stdout)\nperf_analyzer:\n\(theirs.stdout)")
        for key in ["service_kind", "endpoint"] { #expect(ours.export[key] as? String == theirs.export[key] as? String, "\(key)") }
        // Each request's answer, as the concatenation of its responses' text, is the same stream
        // (perf_analyzer cuts it where the socket reads fell; we cut it at each event). Ids and
        // times differ from request to request; they are blanked.
        func streams(_ document: [String: Any]) -> [String] {
            let requests = (document["experiments"] as! [[String: Any]]).flatMap { $0["requests"] as! [[String: Any]] }
            return requests.map { request in
                let text = (request["response_outputs"] as! [[String: String]]).map { $0["response"] ?? "" }.joined()
                return text.replacingOccurrences(of: #""id":"[^"]*""#, with: "ID", options: .regularExpression)
                    .replacingOccurrences(of: #""created":[0-9]+"#, with: "CREATED", options: .regularExpression)
            }.sorted()
        }
        let ourStreams = streams(ours.export)
        #expect(!ourStreams.isEmpty && ourStreams.allSatisfy { $0.hasSuffix("data: [DONE]\n\n") })
        #expect(Set(ourStreams) == Set(streams(theirs.export)))
        let keys = { (document: [String: Any]) in
            Set((document["experiments"] as! [[String: Any]]).flatMap { ($0["requests"] as! [[String: Any]]).flatMap(\.keys) })
        }
        #expect(keys(ours.export) == keys(theirs.export))
    }

    @Test("Ctrl-C in the middle of long streams: the run stops within seconds and says what it abandoned")
    func interruptMidStream() async throws {
        let sim = try SimulatorProcess(arguments: ["--openai-itl-ms", "50"])
        let data = try openAIInputData([Self.chat("long", tokens: 400)])
        let command = try BackgroundCommand(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                        "-u", sim.url, "--input-data", data, "--concurrency-range", "2"])
        // Wait until both streams are flowing (the server counts the tokens it sent).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? await OpenAIServerProbe.statistics(sim))?.completion_tokens ?? 0 < 20 { try await Task.sleep(for: .milliseconds(100)) }
        try #require(command.process.isRunning, "the run ended early: \(command.stderr.snapshot())")
        let signalled = Date()
        kill(command.process.processIdentifier, SIGINT)
        #expect(await command.waitForExit(timeout: 30))
        #expect(Date().timeIntervalSince(signalled) < 15, "took \(Date().timeIntervalSince(signalled)) s")
        #expect(command.process.terminationStatus == ExitStatus.interrupted.rawValue)
        let stderr = command.stderr.text()
        #expect(stderr.contains("2 requests still in flight at the end of the run were abandoned (not counted)."), "\(stderr)")
        #expect(try await OpenAIServerProbe.statistics(sim).succeeded == 0)
    }

    @Test("HTTPS: the same stream over TLS")
    func https() async throws {
        let sim = try SimulatorProcess(arguments: Self.timing + ["--tls-certificate-file", try TestCertificates.path("server.pem"),
                                                                "--tls-private-key-file", try TestCertificates.path("server.key")])
        #expect(sim.usesTLS)
        let data = try openAIInputData([Self.chat("secure", tokens: 4)])
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", sim.url, "--ssl-https-ca-certificates-file", try TestCertificates.path("ca.pem"),
                                                             "--input-data", data, "--request-count", "10"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Streamed requests: 10 of 10"))
        #expect(try await OpenAIServerProbe.statistics(sim).succeeded == 10)
    }

    @Test("a server that fails mid-stream, cuts a stream or refuses: one line, a failed request, no hang", arguments: [
        ("stream-error", "the server sent an error in event"),
        ("stream-cut", "the server closed the connection mid-stream after"),
        ("too-many-requests", "HTTP 429"),
        ("garbage", "is not JSON"),
    ])
    func faults(mode: String, expected: String) async throws {
        let sim = try SimulatorProcess(arguments: Self.timing + ["--fault", mode, "--fault-after", "5"])
        let data = try openAIInputData([Self.chat("x", tokens: 8)])
        let started = Date()
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", sim.url, "--input-data", data, "-p", "500"], timeout: 60)
        #expect(!result.timedOut && Date().timeIntervalSince(started) < 20)
        #expect(result.status == ExitStatus.failure.rawValue)
        let lines = Self.errorLines(result)
        #expect(lines.count == 1 && lines[0].contains(expected), "\(mode): \(lines)")
        // The five before the fault succeeded; the report never counts a faulted request.
        #expect(try await OpenAIServerProbe.statistics(sim).succeeded >= 5)
    }

    @Test("bad input and a path that is no OpenAI endpoint: one line each", arguments: [
        ("{\"data\": [{\"payload\": [{\"model\": }]}]}", "v1/chat/completions", "invalid JSON at line 1"),
        ("{\"data\": [{\"prompt\": \"x\"}]}", "v1/chat/completions", "data[0]: expected a 'payload' member"),
        ("{\"data\": [{\"payload\": [{\"model\":\"sim-llm\",\"prompt\":\"x\"}]}]}", "v2/models/identity_fp32/infer", "HTTP 400"),
        ("{\"data\": [{\"payload\": [{\"model\":\"nope\",\"prompt\":\"x\"}]}]}", "v1/completions", "HTTP 404"),
    ])
    func badInput(file: String, endpoint: String, expected: String) async throws {
        let sim = try SimulatorProcess()
        let result = try await CommandRunner.run(Self.perf, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", endpoint,
                                                             "-u", sim.url, "--input-data", try temporaryFile(file), "-p", "500"], timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        let lines = Self.errorLines(result)
        #expect(lines.count == 1 && lines[0].contains(expected), "\(lines)")
    }

    @Test("a decoupled model over a gRPC stream: every response is a token")
    func decoupledTokens() async throws {
        let sim = try SimulatorProcess()
        let data = try temporaryFile(#"{"data": [{"IN": [6]}]}"#)
        let result = try await CommandRunner.run(Self.perf, ["-m", "repeat_decoupled", "-i", "grpc", "--streaming", "-u", sim.grpcURL,
                                                             "--input-data", data, "--request-count", "25"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("    Streamed requests: 25 of 25 (one output token per response)"), "\(result.stdout)")
        #expect(result.stdout.contains("Output tokens per request: avg 6.0, p50 6, p99 6, max 6"))
        #expect(result.stdout.contains("(125 gaps"))
        let stats = try await sim.statistics(model: "repeat_decoupled")
        #expect(stats.inference_stats.success.count.value == 25)
    }
}
}
