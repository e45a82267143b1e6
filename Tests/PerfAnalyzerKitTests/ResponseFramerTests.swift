import NIOCore
import Testing
@testable import PerfAnalyzerKit

private func frames(_ text: String, chunkSize: Int, keepBodies: Bool = true) throws -> [HTTPResponseFrame] {
    var framer = HTTPResponseFramer(keepSuccessfulBodies: keepBodies)
    var pending = ByteBuffer()
    var result: [HTTPResponseFrame] = []
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunkSize)
        pending.writeBytes(bytes[offset..<end])
        offset = end
        while let frame = try framer.next(from: &pending) { result.append(frame) }
    }
    if let last = framer.endOfStream() { result.append(last) }
    return result
}

@Suite("HTTP response framing")
struct ResponseFramerTests {
    static let twoResponses = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nInference-Header-Content-Length: 5\r\ncontent-length: 9\r\n\r\n{\"a\":1}xy"
        + "HTTP/1.1 400 Bad Request\r\nContent-Length: 22\r\n\r\n{\"error\":\"bad input\"}\n"

    @Test("pipelined responses split at any byte boundary", arguments: [1, 2, 7, 64, 4096])
    func pipelined(chunkSize: Int) throws {
        let parsed = try frames(Self.twoResponses, chunkSize: chunkSize)
        #expect(parsed.count == 2)
        #expect(parsed[0].status == 200)
        #expect(parsed[0].inferenceHeaderLength == 5)
        #expect(parsed[0].body.map { String(buffer: $0) } == "{\"a\":1}xy")
        #expect(parsed[1].status == 400)
        #expect(parsed[1].body.map { String(buffer: $0) } == "{\"error\":\"bad input\"}\n")
    }

    @Test("successful bodies are skipped unless asked for; errors keep theirs")
    func skipping() throws {
        let parsed = try frames(Self.twoResponses, chunkSize: 3, keepBodies: false)
        #expect(parsed[0].body == nil)
        #expect(parsed[1].body != nil)
    }

    @Test("chunked bodies and close-delimited bodies", arguments: [1, 2, 3, 5, 4096])
    func chunkedAndClose(chunkSize: Int) throws {
        // Sizes in upper and lower case hex, one with an extension, one of two digits; each size
        // line is split across reads at the smaller read sizes.
        let long = String(repeating: "x", count: 0x1a)
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n1A\r\n\(long)\r\n1a\r\n\(long)\r\n0\r\n\r\n"
        let parsed = try frames(chunked, chunkSize: chunkSize)
        #expect(parsed.count == 1)
        #expect(parsed[0].body.map { String(buffer: $0) } == "Wikipedia" + long + long)
        let closing = try frames("HTTP/1.0 200 OK\r\n\r\nuntil the end", chunkSize: 4)
        #expect(closing.count == 1)
        #expect(closing[0].connectionClose)
        #expect(closing[0].body.map { String(buffer: $0) } == "until the end")
    }

    @Test("a header named like a known one, of the same length, is not taken for it", arguments: [1, 5, 4096])
    func sameLengthNames(chunkSize: Int) throws {
        // "x-content-type" and "content-lengtx" have the lengths of Content-Length, "x-connectio" none.
        let text = "HTTP/1.1 200 OK\r\nX-Content-Type: 99\r\nContent-Lengtx: ten\r\nx-Transfer-Encodi: chunked\r\n"
            + "Content-Length: 4\r\nConnection-Tag: close\r\n\r\nbody"
        let parsed = try frames(text, chunkSize: chunkSize)
        #expect(parsed.count == 1)
        #expect(parsed.first?.body.map { String(buffer: $0) } == "body")
        #expect(parsed.first?.connectionClose == false)
        #expect(parsed.first?.eventStream == false)
    }

    @Test("a head whose lines end in a bare LF is read as well", arguments: [1, 4096])
    func bareLineFeeds(chunkSize: Int) throws {
        let parsed = try frames("HTTP/1.1 200 OK\nContent-Type: text/event-stream\nContent-Length: 2\n\nokHTTP/1.1 204 No Content\r\n\r\n",
                                chunkSize: chunkSize)
        #expect(parsed.map(\.status) == [200, 204])
        #expect(parsed.first?.eventStream == true)
        #expect(parsed.first?.body.map { String(buffer: $0) } == "ok")
    }

    @Test("a head seen before reads as before, and one that differs is read afresh", arguments: [1, 3, 4096])
    func repeatedHeads(chunkSize: Int) throws {
        // The framer remembers the last head it parsed (`RepeatMemo`); each of these differs
        // from the one before it by a few bytes of the head.
        let same = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
        let longer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbody!"
        let failed = "HTTP/1.1 503 Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
        let closing = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlast"
        let parsed = try frames(same + same + longer + failed + same + closing + same, chunkSize: chunkSize)
        #expect(parsed.map(\.status) == [200, 200, 200, 503, 200, 200, 200])
        #expect(parsed.map { $0.body.map { String(buffer: $0) } ?? "" } == ["body", "body", "body!", "busy", "body", "last", "body"])
        #expect(parsed.map(\.connectionClose) == [false, false, false, false, false, true, false])
    }

    @Test("malformed responses are errors, not crashes", arguments: [
        "HTTP/1.1 2x0 OK\r\n\r\n", "SMTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\n",
    ])
    func malformed(text: String) {
        #expect(throws: HTTPResponseFramer.ParseError.self) { _ = try frames(text, chunkSize: 5) }
    }
}

/// The framer's check that a successful answer is an inference response (`InferAnswerCheck`).
@Suite("HTTP response framing: infer answers checked")
struct InferAnswerCheckTests {
    /// Every answer's verdict, `text` fed to one framer `chunkSize` bytes at a time.
    private static func problems(_ text: String, chunkSize: Int, keepBodies: Bool = false) throws -> [InferAnswerCheck.Problem?] {
        var framer = HTTPResponseFramer(keepSuccessfulBodies: keepBodies, checksAnswers: true)
        var pending = ByteBuffer()
        let bytes = Array(text.utf8)
        var offset = 0
        var found: [InferAnswerCheck.Problem?] = []
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunkSize)
            pending.writeBytes(bytes[offset..<end])
            offset = end
            while let frame = try framer.next(from: &pending) { found.append(frame.answerProblem) }
        }
        return found
    }

    /// The verdict on the one answer `head` and `body` make; nil when it did not complete.
    private static func problem(_ head: String, body: String, chunkSize: Int, keepBodies: Bool = false) throws -> InferAnswerCheck.Problem?? {
        try problems(head + body, chunkSize: chunkSize, keepBodies: keepBodies).last
    }

    private static func response(_ body: String, headerLength: Int? = nil, contentLength: Int? = nil) -> String {
        var head = "HTTP/1.1 200 OK\r\nContent-Length: \(contentLength ?? body.utf8.count)\r\n"
        if let headerLength { head += "Inference-Header-Content-Length: \(headerLength)\r\n" }
        return head + "\r\n"
    }

    static let binaryHeader = #"{"model_name":"m","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}]}"#

    @Test("a binary answer and a JSON answer pass, split anywhere", arguments: [1, 3, 17, 4096])
    func validAnswers(chunkSize: Int) throws {
        let binaryBody = Self.binaryHeader + "ABCDEFGH"
        #expect(try Self.problem(Self.response(binaryBody, headerLength: Self.binaryHeader.utf8.count), body: binaryBody, chunkSize: chunkSize) == .some(nil))
        let json = #" {"id":"7","outputs":[{"name":"O","data":["a\"}]"]}],"model_name":"m"} "#
        #expect(try Self.problem(Self.response(json), body: json, chunkSize: chunkSize) == .some(nil))
        // Escapes before "outputs", in values and in keys, are walked byte by byte.
        let escaped = #"{"model_name":"\"m","k\\ey":"\\","outputs":[]}"#
        #expect(try Self.problem(Self.response(escaped), body: escaped, chunkSize: chunkSize) == .some(nil))
        // Keeping the body (validation, export) does not change the verdict.
        #expect(try Self.problem(Self.response(json), body: json, chunkSize: chunkSize, keepBodies: true) == .some(nil))
    }

    @Test("what is not an inference response is named", arguments: [1, 5, 4096])
    func invalidAnswers(chunkSize: Int) throws {
        let cases: [(String, InferAnswerCheck.Problem)] = [
            ("this is not a KServe answer", .notAnObject),
            ("", .notAnObject),
            (#"{"result":"ok"}"#, .noOutputs),
            (#"{"model_name":"outputs"}"#, .noOutputs),
            (#"{"model_name":"\"outputs\"","outputs2":[],"output":[]}"#, .noOutputs),
            (#"{"m":"x","outputsX":[]}"#, .noOutputs),
            (#"{"out\"puts":[],"a":"\"}"}"#, .noOutputs),
            (#"{"nested":{"outputs":[]}}"#, .noOutputs),
            (#"{"outputs":[{"name":"O""#, .unfinished),
            (#"{"outputs":[]} trailing"#, .unfinished),
            (#"{"model_name":"m"} trailing"#, .trailingBytes),
            (#"{"model_name":"m""#, .unfinished),
            (#"[{"outputs":[]}]"#, .notAnObject),
        ]
        for (body, expected) in cases {
            #expect(try Self.problem(Self.response(body), body: body, chunkSize: chunkSize) == .some(expected), "\(body)")
        }
    }

    @Test("the same answer again is checked the same, and a changed one afresh", arguments: [1, 4, 4096])
    func repeatedAnswers(chunkSize: Int) throws {
        // The framer remembers the last JSON part it checked whole (`RepeatMemo`). These bodies
        // have one length and one head, so only the bytes tell them apart.
        let good = #"{"outputs":[1]}"#
        let bad = #"{"outputz":[1]}"#
        let unfinished = #"{"outputs":[1] "#
        let header = Self.binaryHeader
        let binary = { (tail: String) in Self.response(header + tail, headerLength: header.utf8.count) + header + tail }
        let order = [good, good, bad, good, bad, bad, unfinished, good].map { Self.response($0) + $0 }
            // The same JSON header with other tensor bytes after it passes again.
            + [binary("ABCDEFGH"), binary("12345678"), binary("ABCDEFGH")]
        let problems = try Self.problems(order.joined(), chunkSize: chunkSize)
        #expect(problems == [nil, nil, .noOutputs, nil, .noOutputs, .noOutputs, .unfinished, nil, nil, nil, nil])
    }

    @Test("an inference header longer than the body is a framing problem")
    func headerPastBody() throws {
        let body = Self.binaryHeader + "ABCDEFGH"
        let claimed = body.utf8.count + 100
        #expect(try Self.problem(Self.response(body, headerLength: claimed), body: body, chunkSize: 7)
                == .some(.headerLongerThanBody(header: claimed, body: body.utf8.count)))
    }

    @Test("errors and control responses are not checked")
    func notChecked() throws {
        var framer = HTTPResponseFramer(keepSuccessfulBodies: true)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        #expect(try framer.next(from: &buffer)?.answerProblem == nil)
        var checking = HTTPResponseFramer(keepSuccessfulBodies: false, checksAnswers: true)
        var error = ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}")
        #expect(try checking.next(from: &error)?.answerProblem == nil)
    }
}
