import Foundation
import KServeSim
import NIOCore
import NIOHTTP1
import Testing

/// A JSON object as the OpenAI tests look into it.
typealias JSONObject = [String: Any]

func jsonObject(_ text: some StringProtocol) throws -> JSONObject {
    let parsed = try JSONSerialization.jsonObject(with: Data(String(text).utf8))
    guard let object = parsed as? JSONObject else { throw TestClientError("not a JSON object: \(text)") }
    return object
}

/// One server-sent event as it arrived: its `data:` text and when its last byte came, counted
/// from just before the request was written. Bytes never arrive before the server sent them, so
/// lower bounds on these times hold however busy the machine is; upper bounds need slack.
struct ArrivedEvent: Sendable {
    var data: String
    var at: Duration

    var isDone: Bool { data == "[DONE]" }
    func json() throws -> JSONObject { try jsonObject(data) }
}

/// A streamed answer read part by part off a keep-alive connection.
struct StreamedAnswer: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var events: [ArrivedEvent]
    /// Bytes after the last complete event (none in a well-formed stream).
    var leftover: String
}

extension TestConnection {
    /// Writes `request` and reads its answer to the end, splitting the body into events as the
    /// parts arrive, so each event carries the time its bytes reached the client.
    mutating func stream(_ request: TestRequest) async throws -> StreamedAnswer {
        // Timed from before the write: the server may have the request before the write returns.
        let clock = ContinuousClock()
        let sent = clock.now
        try await write(request)
        var head: HTTPResponseHead?
        var pending = ""
        var events: [ArrivedEvent] = []
        while let part = try await inbound.next() {
            switch part {
            case .head(let received):
                head = received
            case .body(let bytes):
                let at = clock.now - sent
                pending += String(buffer: bytes)
                while let end = pending.range(of: "\n\n") {
                    let event = pending[..<end.lowerBound]
                    pending = String(pending[end.upperBound...])
                    guard event.hasPrefix("data: ") else { throw TestClientError("an event without data: \(event)") }
                    events.append(ArrivedEvent(data: String(event.dropFirst("data: ".count)), at: at))
                }
            case .end:
                guard let head else { throw TestClientError("answer ended before its head") }
                return StreamedAnswer(status: head.status, headers: head.headers, events: events, leftover: pending)
            }
        }
        throw TestClientError("connection closed before the answer ended (\(events.count) events)")
    }
}

extension TestClient {
    func stream(_ path: String, json: String) async throws -> StreamedAnswer {
        try await withConnection { try await $0.stream(TestRequest(method: .POST, path: path, body: ByteBuffer(string: json))) }
    }

    /// `GET /v1/sim/statistics`, decoded.
    func openAIStatistics() async throws -> [String: Int] {
        let response = try await get("/v1/sim/statistics")
        guard response.status == .ok else { throw TestClientError("statistics: \(response.status) \(response.text)") }
        return try JSONDecoder().decode([String: Int].self, from: Data(response.body.readableBytesView))
    }
}

extension TestResponse {
    func json() throws -> JSONObject { try jsonObject(text) }

    /// `error.message`, `error.type` and `error.code` of an OpenAI error body.
    func openAIError() throws -> (message: String, type: String, code: Int) {
        let error = try #require(try json()["error"] as? JSONObject, "no error object in \(text)")
        return (try #require(error["message"] as? String), try #require(error["type"] as? String),
                try #require(error["code"] as? Int))
    }
}

/// The words the simulator answers with, as a client reassembles them.
func simulatedWords(_ count: Int) -> [String] {
    let cycle = ["the ", "quick ", "brown ", "fox ", "jumps ", "over ", "a ", "lazy ", "dog ", "while ",
                 "simulated ", "tokens ", "stream ", "out ", "one ", "by "]
    return (0..<count).map { cycle[$0 % cycle.count] }
}

/// A chat request body; `extra` is spliced in as more top-level fields (`"stream":true,...`).
func chatBody(model: String = "sim-llm", content: String = "say something short", extra: String = "") -> String {
    #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(content)"}]\#(extra.isEmpty ? "" : "," + extra)}"#
}

func completionBody(model: String = "sim-llm", prompt: String = #""one two three""#, extra: String = "") -> String {
    #"{"model":"\#(model)","prompt":\#(prompt)\#(extra.isEmpty ? "" : "," + extra)}"#
}

/// A temporary record file path, removed by the caller.
func temporaryRecordPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("kserve-sim-\(name)-\(UUID().uuidString).jsonl").path
}

/// The lines of a record file as JSON objects.
func recordedObjects(_ path: String) throws -> [JSONObject] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return try text.split(separator: "\n").map { try jsonObject($0) }
}

/// A chunked HTTP/1.1 body decoded from the bytes after the head: the data of every complete
/// chunk, and whether the zero-length chunk that ends the body came.
func dechunk(_ bytes: [UInt8]) -> (body: [UInt8], ended: Bool) {
    var body: [UInt8] = []
    var at = 0
    let crlf: [UInt8] = [13, 10]
    while let lineEnd = bytes[at...].indices.first(where: { bytes[$0...].starts(with: crlf) }) {
        guard let size = Int(String(decoding: bytes[at..<lineEnd], as: UTF8.self), radix: 16) else { break }
        let start = lineEnd + 2
        if size == 0 { return (body, true) }
        guard bytes.count >= start + size + 2 else { break }
        body += bytes[start..<(start + size)]
        at = start + size + 2
    }
    return (body, false)
}
