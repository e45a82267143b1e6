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

    @Test("chunked bodies and close-delimited bodies")
    func chunkedAndClose() throws {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n"
        let parsed = try frames(chunked, chunkSize: 3)
        #expect(parsed.count == 1)
        #expect(parsed[0].body.map { String(buffer: $0) } == "Wikipedia")
        let closing = try frames("HTTP/1.0 200 OK\r\n\r\nuntil the end", chunkSize: 4)
        #expect(closing.count == 1)
        #expect(closing[0].connectionClose)
        #expect(closing[0].body.map { String(buffer: $0) } == "until the end")
    }

    @Test("malformed responses are errors, not crashes", arguments: [
        "HTTP/1.1 2x0 OK\r\n\r\n", "SMTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ])
    func malformed(text: String) {
        #expect(throws: HTTPResponseFramer.ParseError.self) { _ = try frames(text, chunkSize: 5) }
    }
}
