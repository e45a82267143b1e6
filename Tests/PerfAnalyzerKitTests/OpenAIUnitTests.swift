import Foundation
import Testing
@testable import PerfAnalyzerKit

/// Splits `text` into pieces of `size` bytes and feeds them in turn; returns each event's data.
private func events(_ text: String, pieceSize: Int) -> [(text: String, data: String)] {
    var scanner = ServerSentEventScanner()
    var found: [(String, String)] = []
    let bytes = Array(text.utf8)
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + pieceSize)
        bytes[start..<end].withUnsafeBytes { piece in
            scanner.feed(piece) { whole, data in
                found.append((String(decoding: whole, as: UTF8.self), String(decoding: data, as: UTF8.self)))
            }
        }
        start = end
    }
    return found
}

private func facts(_ json: String) -> OpenAIChunkFacts {
    Array(json.utf8).withUnsafeBytes { OpenAIChunkFacts.scan($0) }
}

private func isDone(_ data: String) -> Bool {
    Array(data.utf8).withUnsafeBytes { OpenAIChunkFacts.isDone($0) }
}

@Suite("OpenAI event streams and chunks")
struct OpenAIStreamTests {
    static let stream = "data: {\"a\":1}\n\n: keep-alive comment\n\ndata: {\"b\":2}\r\n\r\nevent: x\nid: 7\ndata: line one\ndata: line two\n\ndata:[DONE]\n\n"

    @Test("events are the same whatever pieces the bytes arrive in", arguments: [1, 2, 3, 7, 64, 1000])
    func pieces(size: Int) {
        let found = events(Self.stream, pieceSize: size)
        #expect(found.map(\.data) == ["{\"a\":1}", "{\"b\":2}", "line one\nline two", "[DONE]"])
        #expect(found[0].text == "data: {\"a\":1}\n\n")
        #expect(found[1].text == "data: {\"b\":2}\r\n\r\n")
        #expect(found[2].text == "event: x\nid: 7\ndata: line one\ndata: line two\n\n")
    }

    @Test("an event without its blank line is not emitted until the line comes")
    func unfinished() {
        #expect(events("data: {\"a\":1}\n", pieceSize: 100).isEmpty)
        #expect(events("data: {\"a\":1}", pieceSize: 100).isEmpty)
    }

    @Test("[DONE] is recognised with blanks around it, and nothing else is")
    func done() {
        #expect(isDone("[DONE]"))
        #expect(isDone(" [DONE] "))
        #expect(!isDone("[DONE"))
        #expect(!isDone("\"[DONE]\""))
        #expect(!isDone("{}"))
    }

    @Test("content: a non-empty content, text or reasoning string; the role chunk and the empty delta carry none")
    func content() {
        #expect(!facts(#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#).carriesContent)
        #expect(facts(#"{"choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}"#).carriesContent)
        #expect(facts(#"{"choices":[{"index":0,"text":"x","finish_reason":null}]}"#).carriesContent)
        #expect(facts(#"{"choices":[{"delta":{"reasoning_content":"hm"}}]}"#).carriesContent)
        #expect(facts(#"{"choices":[{"delta":{"reasoning":"hm"}}]}"#).carriesContent)
        // Names of the same length as the ones looked for, and literals of every kind.
        #expect(!facts(#"{"choices":[{"delta":{"contents":"x","Content":"y","texts":"z","reasoninG":"w"}}]}"#).carriesContent)
        #expect(!facts(#"{"choices":[{"logprobs":null,"done":true,"stop":false,"delta":{"content":""}}]}"#).carriesContent)
        #expect(!facts(#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#).carriesContent)
        #expect(!facts(#"{"choices":[{"delta":{"content":null}}]}"#).carriesContent)
        // An escaped quote inside a string does not end it early.
        #expect(facts(#"{"choices":[{"delta":{"content":"a \"quoted\" word"}}]}"#).carriesContent)
    }

    @Test("usage.completion_tokens is read; the same name elsewhere is not")
    func usage() {
        #expect(facts(#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":17,"total_tokens":22}}"#).completionTokens == 17)
        #expect(facts(#"{"other":{"completion_tokens":3}}"#).completionTokens == nil)
        #expect(facts(#"{"choices":[{"delta":{"content":"\"usage\":{\"completion_tokens\":9}"}}]}"#).completionTokens == nil)
    }

    @Test("a top-level error member, with its message")
    func error() {
        let json = #"{"error":{"message":"simulated failure mid-stream","type":"InternalServerError","code":500}}"#
        let found = facts(json)
        #expect(found.isError)
        let message = found.errorMessage.map { String(decoding: Array(json.utf8)[$0], as: UTF8.self) }
        #expect(message == "simulated failure mid-stream")
        #expect(!facts(#"{"choices":[{"error":"not top level"}]}"#).isError)
        #expect(facts(#"{"usage":{"completion_tokens":4},"error":"flat"}"#) == OpenAIChunkFacts(
            carriesContent: false, completionTokens: 4, isError: true, errorMessage: 42..<46, malformedAt: nil))
    }

    @Test("text that is not JSON is malformed, with where it broke", arguments: [
        "not json", "{\"a\":", "{\"a\" 1}", "{\"a\":1}}", "[1,2", "{\"a\":\"unterminated}", "",
        "{\"a\":tru}", "{\"a\":nul}", "{\"a\":falsey}", "{\"a\":fals", "[t]", "{\"a\":-}x",
    ])
    func malformed(text: String) {
        #expect(facts(text).malformedAt != nil)
    }
}

@Suite("OpenAI input data")
struct OpenAIPayloadFileTests {
    private func load(_ text: String) throws -> [OpenAIPayload] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("openai-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try OpenAIPayloadFile.load(paths: [path])
    }

    private func failure(_ text: String) -> String {
        do {
            _ = try load(text)
            return "no error"
        } catch {
            // The temporary file's name differs per call; keep what follows it.
            let line = "\(error)"
            return line.components(separatedBy: ".json: ").last ?? line
        }
    }

    @Test("payloads in file order, compacted, key order and strings kept")
    func payloads() throws {
        let payloads = try load("""
            {"data": [
              {"payload": [{"model": "m", "messages": [{"role": "user", "content": "two  spaces\\n"}], "stream": true}]},
              {"payload": {"prompt": "bare object", "max_tokens": 4}, "session_id": "s1", "delay": 10}
            ]}
            """)
        #expect(payloads.map { String(decoding: $0.body, as: UTF8.self) } == [
            #"{"model":"m","messages":[{"role":"user","content":"two  spaces\n"}],"stream":true}"#,
            #"{"prompt":"bare object","max_tokens":4}"#,
        ])
    }

    @Test("a body that is not UTF-8 is refused with its path, before any request")
    func notUTF8() {
        let bytes = Array(#"{"data": [{"payload": {"prompt": "caf"#.utf8) + [0xE9] + Array(#""}}]}"#.utf8) + [0]
        #expect(throws: InputDataError("bad.json: data[0].payload: expected UTF-8 text, found a byte sequence that is not UTF-8")) {
            try OpenAIPayloadFile.parse(bytes, file: "bad.json")
        }
    }

    @Test("bad files name the JSON path and what was found")
    func errors() {
        #expect(failure("{\"data\": [{\"nope\": 1}]}") == "data[0]: expected a 'payload' member holding the request body, found an entry without one")
        #expect(failure("{\"data\": [{\"payload\": \"text\"}]}") == "data[0].payload: expected the request body, an object (or an array holding one), found a string")
        #expect(failure("{\"data\": [{\"payload\": [{}, {}]}]}").hasPrefix("data[0].payload: expected one request body per payload"))
        #expect(failure("{\"other\": 1}") == "expected a 'data' member holding the requests, found none")
        #expect(failure("{\"data\": []}") == "data: expected at least one entry with a payload, found an empty array")
        #expect(failure("{\"data\": [{\"payload\": [{\"a\": }]}]}").contains("invalid JSON at line 1"))
        #expect(failure("{\"data\": [{\"payload\": {\"prompt\": \"caf\u{E9}\"}}]}".replacingOccurrences(of: "\u{E9}", with: "\u{FFFD}")) == "no error")
    }
}

@Suite("OpenAI options and generated payloads")
struct OpenAIOptionTests {
    private func resolve(_ arguments: [String]) throws -> PerfAnalyzerOptions {
        try PerfAnalyzerCommand.parse(arguments).resolve()
    }

    private func refusal(_ arguments: [String]) -> String {
        do {
            _ = try resolve(arguments)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test("the kind, its endpoint and generated bodies resolve")
    func resolves() throws {
        let options = try resolve(["-m", "llm", "--service-kind", "openai", "--endpoint", "/v1/chat/completions",
                                   "--synthetic-prompt-words", "12", "--synthetic-output-tokens", "5", "--goodput", "ttft:200,itl:20"])
        #expect(options.openAI?.endpoint == "v1/chat/completions")
        #expect(options.openAI?.synthetic?.shape == .chat)
        #expect(options.openAI?.synthetic?.promptWordsMean == 12)
        #expect(options.goodput == Goodput(timeToFirstTokenNs: 200_000_000, interTokenLatencyNs: 20_000_000))
    }

    @Test("what the kind needs and refuses, one line each", arguments: [
        (["--service-kind", "openai"], "--service-kind openai: --endpoint is required"),
        (["--service-kind", "openai", "--endpoint", "v1/completions"], "--service-kind openai: --input-data FILE is required"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "--input-data", "zero"], "--input-data zero: --service-kind openai takes JSON files"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "-i", "grpc", "--synthetic-prompt-words", "3"], "-i grpc: --service-kind openai speaks HTTP only"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "-b", "2", "--synthetic-prompt-words", "3"], "-b 2: --service-kind openai sends one request body"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "--shared-memory", "system", "--synthetic-prompt-words", "3"], "--shared-memory: not available with --service-kind openai"),
        (["--endpoint", "v1/completions"], "--endpoint: applies to --service-kind openai"),
        (["--synthetic-prompt-words", "3"], "--synthetic-prompt-words: applies to --service-kind openai"),
        (["--goodput", "ttft:10"], "--goodput: needs token streams"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "--synthetic-prompt-words", "3", "--goodput", "ttft:x"], "--goodput ttft:x: 'x' is not a time in msec above 0"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "--synthetic-prompt-words", "3", "--goodput", "speed:10"], "--goodput speed:10: 'speed:10' is not NAME:MS"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "--synthetic-prompt-words", "0"], "--synthetic-prompt-words 0: expected a word count from 1"),
        (["--service-kind", "openai", "--endpoint", "v1/completions", "--synthetic-stream", "maybe"], "--synthetic-stream maybe: expected true or false"),
    ] as [([String], String)])
    func refusals(arguments: [String], expected: String) {
        let line = refusal(["-m", "llm"] + arguments)
        #expect(line.hasPrefix(expected), "\(line)")
    }

    @Test("generated bodies: seeded, the requested lengths, the endpoint's shape")
    func synthetic() throws {
        var settings = SyntheticPayloads(model: "m\"odel")
        settings.promptWordsMean = 20
        settings.promptWordsStddev = 5
        settings.outputTokensMean = 64
        settings.entries = 50
        let first = settings.generate()
        #expect(first == settings.generate())
        settings.seed = 1
        #expect(first != settings.generate())
        for payload in first {
            let object = try JSONSerialization.jsonObject(with: Data(payload.body)) as! [String: Any]
            #expect(object["model"] as? String == "m\"odel")
            #expect(object["max_tokens"] as? Int == 64)
            #expect(object["stream"] as? Bool == true)
            #expect((object["stream_options"] as? [String: Bool])?["include_usage"] == true)
            let content = ((object["messages"] as? [[String: String]])?.first?["content"]) ?? ""
            #expect((1...60).contains(content.split(separator: " ").count))
        }
        let words = first.map { payload -> Int in
            let object = try! JSONSerialization.jsonObject(with: Data(payload.body)) as! [String: Any]
            return ((object["messages"] as! [[String: String]])[0]["content"]!).split(separator: " ").count
        }
        let mean = Double(words.reduce(0, +)) / Double(words.count)
        #expect(abs(mean - 20) < 3)
        #expect(Set(words).count > 3)
        settings.shape = .completion
        settings.stream = false
        let completion = try JSONSerialization.jsonObject(with: Data(settings.generate()[0].body)) as! [String: Any]
        #expect(completion["prompt"] is String && completion["stream"] as? Bool == false)
        settings.shape = .embedding
        let embedding = try JSONSerialization.jsonObject(with: Data(settings.generate()[0].body)) as! [String: Any]
        #expect(embedding["input"] is String && embedding["max_tokens"] == nil)
    }
}

@Suite("OpenAI fuzzing")
struct OpenAIFuzzTests {
    private static let seeds: [[UInt8]] = FuzzCorpus.files(in: "openai-data").map { Array($0) }

    private static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        guard !bytes.isEmpty else { return }
        let at = Int(random.next() % UInt64(bytes.count))
        switch random.next() % 5 {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
        case 2: bytes[at] = Array("{}[]\",:0 \\\n".utf8)[Int(random.next() % 11)]
        case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + Int(random.next() % 40))], at: at)
        default: bytes.removeSubrange(at..<min(bytes.count, at + Int(random.next() % 20)))
        }
    }

    @Test("damaged payload files load consistently or are refused in one line; session plans never trap", .timeLimit(.minutes(1)))
    func payloadFiles() {
        #expect(Self.seeds.count >= 2, "the corpus in Tests/Fuzz/openai-data was not found")
        var random = SplitMix64(state: 0x0A1_F022)
        let clock = ContinuousClock()
        let start = clock.now
        var outcomes = (loaded: 0, refused: 0)
        for iteration in 0..<20000 {
            if iteration % 100 == 0, clock.now - start > .seconds(3) { break }
            var bytes = Self.seeds[Int(random.next() % UInt64(Self.seeds.count))]
            for _ in 0..<(1 + random.next() % 3) { Self.mutate(&bytes, &random) }
            do {
                let payloads = try OpenAIPayloadFile.parse(bytes + [0], file: "fuzz.json")
                outcomes.loaded += 1
                for payload in payloads {
                    // A loaded body is one JSON object, whitespace outside strings removed.
                    #expect((try? JSONSerialization.jsonObject(with: Data(payload.body))) is [String: Any], "\(payload.body.map { $0 < 0x20 || $0 > 0x7E ? "<\($0)>" : String(UnicodeScalar($0)) }.joined())")
                    _ = ChatSessionPlan.splitMessages(payload.body)
                }
                _ = try? ChatSessionPlan(payloads: payloads)
            } catch {
                outcomes.refused += 1
                #expect(!error.description.contains("\n") && error.description.hasPrefix("fuzz.json: "), "\(error)")
            }
        }
        #expect(outcomes.loaded > 0 && outcomes.refused > 0 && outcomes.loaded + outcomes.refused > 300)
    }

    @Test("random and damaged event streams, in random pieces, never trap; [DONE] is found wherever the reads fall")
    func eventStreams() {
        var random = SplitMix64(state: 0x55E)
        let valid = Array(OpenAIStreamTests.stream.utf8)
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<(random.next() % 4) { Self.mutate(&bytes, &random) }
            var scanner = ServerSentEventScanner()
            var start = 0
            var sawDone = false
            while start < bytes.count {
                let end = min(bytes.count, start + 1 + Int(random.next() % 64))
                bytes[start..<end].withUnsafeBytes { piece in
                    scanner.feed(piece) { _, data in
                        _ = OpenAIChunkFacts.scan(data)
                        if OpenAIChunkFacts.isDone(data) { sawDone = true }
                    }
                }
                start = end
            }
            if bytes == valid { #expect(sawDone) }
        }
    }
}
