import Foundation
import Testing
@testable import PerfAnalyzerKit

/// `--service-kind openai` against a real OpenAI-compatible server no one here wrote: llama.cpp's
/// server (llama-cpp-python) with the tiny random model scripts/install-llama-server.sh writes,
/// started by scripts/test.sh (`LLAMA_SERVER_URL`, `LLAMA_SERVER_MODEL`). The server serves one
/// request at a time, sends no usage in streams, and gives exactly `max_tokens` tokens.
extension EndToEnd {
@Suite("OpenAI service kind against llama.cpp's server")
struct LlamaServerEndToEndTests {
    private static let perf = BuiltTools.perfAnalyzer

    struct Server {
        var url: String
        var model: String

        static func current() throws -> Server {
            let environment = ProcessInfo.processInfo.environment
            guard let url = environment["LLAMA_SERVER_URL"], let model = environment["LLAMA_SERVER_MODEL"] else {
                throw Missing()
            }
            return Server(url: url, model: model)
        }

        struct Missing: Error, CustomStringConvertible {
            var description: String {
                "LLAMA_SERVER_URL and LLAMA_SERVER_MODEL are not set: these tests need the llama.cpp server that scripts/test.sh installs and starts; run the suite with scripts/test.sh"
            }
        }
    }

    /// The server's own count of output tokens for `body`: its non-streamed answer's usage
    /// (temperature 0 and a seed make the answer the same every time).
    private static func serverTokens(_ server: Server, endpoint: String, body: String) async throws -> Int {
        let result = try await CommandRunner.run("/usr/bin/curl", ["-s", "--max-time", "30", "-H", "Content-Type: application/json",
                                                                  "-d", body, "http://\(server.url)/\(endpoint)"], timeout: 40)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try #require((object?["usage"] as? [String: Any])?["completion_tokens"] as? Int, "\(result.stdout)")
    }

    private static func body(_ server: Server, chat: Bool, tokens: Int, stream: Bool) -> String {
        let input = chat ? #""messages":[{"role":"user","content":"tell me a story"}]"# : #""prompt":"once upon a time""#
        return #"{"model":"\#(server.model)",\#(input),"max_tokens":\#(tokens),"temperature":0,"seed":7,"stream":\#(stream)}"#
    }

    @Test("streamed chat and completions: the tokens counted from the stream are the tokens the server says it made",
          arguments: [(true, "v1/chat/completions"), (false, "v1/completions")])
    func streamedTokens(chat: Bool, endpoint: String) async throws {
        let server = try Server.current()
        let tokens = 12
        let expected = try await Self.serverTokens(server, endpoint: endpoint, body: Self.body(server, chat: chat, tokens: tokens, stream: false))
        #expect(expected == tokens)
        let data = try openAIInputData([Self.body(server, chat: chat, tokens: tokens, stream: true)])
        let result = try await CommandRunner.run(Self.perf, ["-m", server.model, "--service-kind", "openai", "--endpoint", endpoint,
                                                             "-u", server.url, "--input-data", data, "--request-count", "8"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("    Streamed requests: 8 of 8 (output tokens counted as responses with content: the server sent no usage block)"), "\(out)")
        #expect(out.contains("Output tokens per request: avg \(expected).0, p50 \(expected), p99 \(expected), max \(expected)"), "\(out)")
        #expect(out.contains("(\(8 * (expected - 1)) gaps"), "\(out)")
        let ttft = try #require(llmFigure("Time to first token", "p50", in: out))
        let latency = try #require(reportedMicroseconds("    p50 latency", in: out))
        #expect(ttft > 0 && ttft < Double(latency), "time to first token \(ttft) within the request's \(latency) usec")
    }

    @Test("whole answers and generated bodies at a request rate: usage counted, every request answered")
    func wholeAnswersAtARate() async throws {
        let server = try Server.current()
        let result = try await CommandRunner.run(Self.perf, ["-m", server.model, "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", server.url, "--synthetic-prompt-words", "5", "--synthetic-output-tokens", "6",
                                                             "--synthetic-stream", "false", "--request-rate-range", "10", "--request-count", "20",
                                                             "-f", FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString).csv").path],
                                                 timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("    Streamed requests: 0 of 20 (output tokens from the server's usage blocks)"), "\(result.stdout)")
        #expect(result.stdout.contains("Output tokens per request: avg 6.0"), "\(result.stdout)")
    }

    @Test("a prompt longer than the context: the server answers 200 and ends the stream without [DONE]; one line, exit 99")
    func streamWithoutDone() async throws {
        let server = try Server.current()
        let prompt = Array(repeating: "word", count: 6000).joined(separator: " ")
        let body = #"{"model":"\#(server.model)","prompt":"\#(prompt)","max_tokens":4,"stream":true}"#
        let result = try await CommandRunner.run(Self.perf, ["-m", server.model, "--service-kind", "openai", "--endpoint", "v1/completions",
                                                             "-u", server.url, "--input-data", try openAIInputData([body]), "--request-count", "2"],
                                                 timeout: 120)
        #expect(result.status == ExitStatus.failure.rawValue)
        let lines = result.stderr.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1 && lines[0].contains("the event stream ended without data: [DONE] after 0 events"), "\(lines)")
    }

    @Test("HTTPS: a second llama.cpp server with TLS, the same stream")
    func https() async throws {
        let server = try Server.current()
        let port = try freeLoopbackPort()
        let root = BuiltTools.repositoryRoot.path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("llama-tls-\(UUID().uuidString).log").path
        // The script's PID line goes to a file and is polled for: the server it leaves running
        // inherits a descriptor by which Foundation's Process would see the script's exit only
        // once the server is gone too.
        let pidFile = log + ".pid"
        let command = "\"\(root)/scripts/start-llama-server.sh\" \(port) \"\(log)\" --ssl_certfile \"\(try TestCertificates.path("server.pem"))\" "
            + "--ssl_keyfile \"\(try TestCertificates.path("server.key"))\" > \"\(pidFile)\""
        let starter = try BackgroundCommand("/bin/sh", ["-c", command])
        var pid = ""
        let deadline = Date().addingTimeInterval(90)
        while pid.isEmpty, Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let text = (try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""
            if text.hasSuffix("\n") { pid = text.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        try #require(!pid.isEmpty, "the TLS server did not start: \(starter.stderr.snapshot())")
        defer { _ = try? CommandRunner.run("\(root)/scripts/stop-llama-server.sh", [pid], timeout: 30) }
        let data = try openAIInputData([Self.body(server, chat: true, tokens: 5, stream: true)])
        let result = try await CommandRunner.run(Self.perf, ["-m", server.model, "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                             "-u", "https://127.0.0.1:\(port)", "--ssl-https-ca-certificates-file",
                                                             try TestCertificates.path("ca.pem"), "--input-data", data, "--request-count", "4"],
                                                 timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Output tokens per request: avg 5.0"), "\(result.stdout)")
    }
}
}
