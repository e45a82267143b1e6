#if canImport(Glibc)
import Glibc
#endif
import KServeProtocol
import NIOCore

/// One complete HTTP/1.1 response, as the framer hands it over.
struct HTTPResponseFrame {
    var status: Int
    /// `Inference-Header-Content-Length`, when the server sent binary tensors.
    var inferenceHeaderLength: Int?
    /// The body, kept only when the caller asked for it (errors always keep theirs).
    var body: ByteBuffer?
    /// True when the server said it will close the connection after this response.
    var connectionClose: Bool
    /// Why a successful answer is not an inference response (only when the framer checks answers).
    var answerProblem: InferAnswerCheck.Problem? = nil
    /// `Content-Type: text/event-stream` (server-sent events).
    var eventStream = false
}

/// An incremental HTTP/1.1 response parser: bytes in, complete responses out.
///
/// It reads just what a load generator needs (status, lengths, a few headers)
/// and skips bodies it was not asked to keep without copying them, so the
/// receive path does no allocation for a successful response.
struct HTTPResponseFramer {
    enum ParseError: Error, CustomStringConvertible {
        case malformedStatusLine
        case malformedHeader
        case malformedChunk
        case headerTooLarge

        var description: String {
            switch self {
            case .malformedStatusLine: return "the server sent a malformed HTTP status line"
            case .malformedHeader: return "the server sent a malformed HTTP header"
            case .malformedChunk: return "the server sent a malformed chunked body"
            case .headerTooLarge: return "the server's HTTP header block exceeds 64 KiB"
            }
        }
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    /// The last head parsed, and the last answer's JSON part with the check's state after it.
    private var heads = RepeatMemo<(ParsedHead, Int)>(limit: 512)
    private var checkedJSON: RepeatMemo<InferAnswerCheck>
    private var frame = HTTPResponseFrame(status: 0, inferenceHeaderLength: nil, body: nil, connectionClose: false)
    private var keepBody = false
    /// Whether the next response's successful body should be kept (validation, control calls).
    var keepSuccessfulBodies: Bool
    /// Whether successful responses are checked as infer answers (`InferAnswerCheck`).
    private let checksAnswers: Bool
    /// The current response is a successful one being checked.
    private var checking = false
    private var check = InferAnswerCheck()
    /// Bytes of the JSON header still to scan (`Int.max`: the whole body is JSON).
    private var headerRemaining = 0
    private var bodyBytes = 0
    /// When set, the body of a successful event-stream response goes here as it arrives, piece
    /// by piece, instead of being kept or skipped (OpenAI streams are timed event by event).
    var eventStreamBody: ((UnsafeRawBufferPointer) -> Void)?
    /// The current response's body goes to `eventStreamBody`.
    private var streamingEvents = false

    init(keepSuccessfulBodies: Bool, checksAnswers: Bool = false) {
        self.keepSuccessfulBodies = keepSuccessfulBodies
        self.checksAnswers = checksAnswers
        // Storage only for a framer that checks answers (load connections, not control or streams).
        checkedJSON = RepeatMemo(limit: checksAnswers ? 1024 : 0)
    }

    /// Consumes what it can from `buffer`; returns a frame when one response is complete.
    /// Call again with the same buffer until it returns nil: pipelined bytes stay in `buffer`.
    mutating func next(from buffer: inout ByteBuffer) throws(ParseError) -> HTTPResponseFrame? {
        while true {
            switch state {
            case .head:
                guard let headLength = try parseHead(buffer) else {
                    if buffer.readableBytes > 65_536 { throw .headerTooLarge }
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: headLength)
                if frame.status == 100 || frame.status == 103 {
                    resetFrame()
                    continue
                }
            case .fixedBody(let remaining):
                if remaining == 0 { return finish() }
                let take = min(remaining, buffer.readableBytes)
                if take == 0 { return nil }
                consumeBody(&buffer, take, wholeBody: take == remaining)
                state = .fixedBody(remaining: remaining - take)
            case .chunkSize:
                // One pass over the raw bytes: a streamed answer has a chunk per event.
                guard let (size, lineLength) = try buffer.withUnsafeReadableBytes({ bytes throws(ParseError) in try Self.chunkSizeLine(bytes) }) else {
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: lineLength)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, buffer.readableBytes)
                if take == 0 { return nil }
                consumeBody(&buffer, take)
                state = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                buffer.moveReaderIndex(forwardBy: 2)
                state = .chunkSize
            case .trailers:
                guard let lineEnd = Self.find(crlf: buffer) else { return nil }
                buffer.moveReaderIndex(forwardBy: lineEnd + 2)
                if lineEnd == 0 { return finish() }
            case .untilClose:
                let take = buffer.readableBytes
                if take == 0 { return nil }
                consumeBody(&buffer, take)
            }
        }
    }

    /// The connection closed: a body delimited by the close is now complete.
    mutating func endOfStream() -> HTTPResponseFrame? {
        if case .untilClose = state { return finish() }
        return nil
    }

    /// True between responses: nothing of a response has been parsed yet.
    var isIdle: Bool {
        if case .head = state { return true }
        return false
    }

    /// `wholeBody`: these `count` bytes are the rest of the body.
    private mutating func consumeBody(_ buffer: inout ByteBuffer, _ count: Int, wholeBody: Bool = false) {
        if streamingEvents, let eventStreamBody {
            buffer.withUnsafeReadableBytes { eventStreamBody(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            buffer.moveReaderIndex(forwardBy: count)
            return
        }
        if checking {
            bodyBytes += count
            if headerRemaining > 0 {
                let scanned = min(count, headerRemaining)
                // The whole JSON part in one piece, checked from the start: bytes the same as the
                // last such part leave the check as that one did.
                let whole = bodyBytes == count && check.problem == nil
                    && (headerRemaining == .max ? wholeBody : scanned == headerRemaining)
                var check = self.check
                buffer.withUnsafeReadableBytes { raw in
                    let json = UnsafeRawBufferPointer(rebasing: raw[0..<scanned])
                    if whole, let repeated = checkedJSON.value(for: json) {
                        check = repeated
                        return
                    }
                    check.scan(json)
                    if whole { checkedJSON.remember(json, gave: check) }
                }
                self.check = check
                if headerRemaining != .max { headerRemaining -= scanned }
            }
        }
        if keepBody, var slice = buffer.readSlice(length: count) {
            if frame.body == nil {
                frame.body = slice
            } else {
                frame.body!.writeBuffer(&slice)
            }
        } else {
            buffer.moveReaderIndex(forwardBy: count)
        }
    }

    private mutating func finish() -> HTTPResponseFrame {
        if checking {
            if headerRemaining != .max, headerRemaining > 0 {
                check.fail(.headerLongerThanBody(header: frame.inferenceHeaderLength ?? 0, body: bodyBytes))
            }
            frame.answerProblem = check.finish()
            checking = false
        }
        let done = frame
        resetFrame()
        return done
    }

    private mutating func resetFrame() {
        frame = HTTPResponseFrame(status: 0, inferenceHeaderLength: nil, body: nil, connectionClose: false)
        state = .head
    }

    /// Parses the head at the start of `buffer` once all of it has arrived; returns its length
    /// with the blank line, or nil while it is incomplete (nothing is consumed then).
    private mutating func parseHead(_ buffer: ByteBuffer) throws(ParseError) -> Int? {
        let found = try buffer.withUnsafeReadableBytes { (raw: UnsafeRawBufferPointer) throws(ParseError) -> (ParsedHead, Int)? in
            if let repeated = heads.value(atStartOf: raw) { return repeated }
            guard let parsed = try Self.parseHead(raw) else { return nil }
            heads.remember(UnsafeRawBufferPointer(rebasing: raw[0..<parsed.1]), gave: parsed)
            return parsed
        }
        guard let (parsed, length) = found else { return nil }
        frame.status = parsed.status
        frame.inferenceHeaderLength = parsed.inferenceHeaderLength
        frame.connectionClose = parsed.connectionClose
        frame.eventStream = parsed.eventStream
        streamingEvents = eventStreamBody != nil && parsed.status == 200 && parsed.eventStream
        keepBody = (keepSuccessfulBodies && !streamingEvents) || parsed.status != 200
        checking = checksAnswers && parsed.status == 200
        if checking {
            check = InferAnswerCheck()
            bodyBytes = 0
            headerRemaining = parsed.inferenceHeaderLength ?? .max
            if let header = parsed.inferenceHeaderLength, let length = parsed.contentLength, header > length {
                check.fail(.headerLongerThanBody(header: header, body: length))
            }
        }
        if parsed.status == 204 || parsed.status == 304 || (100..<200).contains(parsed.status) {
            state = .fixedBody(remaining: 0)
        } else if parsed.chunked {
            state = .chunkSize
        } else if let contentLength = parsed.contentLength {
            state = .fixedBody(remaining: contentLength)
        } else {
            frame.connectionClose = true
            state = .untilClose
        }
        return length
    }

    private struct ParsedHead {
        var status = 0
        var contentLength: Int?
        var inferenceHeaderLength: Int?
        var chunked = false
        var connectionClose = false
        var eventStream = false
    }

    /// Parses "HTTP/1.x NNN reason" and the header lines at the start of `bytes`, without
    /// allocating: the head and its length with the blank line that ends it, or nil when that
    /// line has not arrived. One pass: `ByteScan` finds each line's end, and a header's name is
    /// compared only with the names of its length.
    private static func parseHead(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> (ParsedHead, Int)? {
        guard let base = bytes.baseAddress, let statusEnd = lineEnd(base, from: 0, count: bytes.count) else { return nil }
        var parsed = ParsedHead()
        guard statusEnd >= 12, bytes[0] == UInt8(ascii: "H"), bytes[4] == UInt8(ascii: "/"),
              bytes[5] == UInt8(ascii: "1"), bytes[6] == UInt8(ascii: ".") else { throw .malformedStatusLine }
        for index in 9..<12 {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else { throw .malformedStatusLine }
            parsed.status = parsed.status * 10 + Int(byte - 0x30)
        }
        parsed.connectionClose = bytes[7] == UInt8(ascii: "0")
        var lineStart = statusEnd + 1
        while true {
            guard let end = lineEnd(base, from: lineStart, count: bytes.count) else { return nil }
            let trimmedEnd = end > lineStart && bytes[end - 1] == 0x0D ? end - 1 : end
            if trimmedEnd == lineStart {
                // The blank line after the last header.
                return (parsed, end + 1)
            }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<trimmedEnd])
            lineStart = end + 1
            guard let colon = ByteScan.first(0x3A, in: line.baseAddress!, from: 0, to: line.count) else { throw .malformedHeader }
            // Only these names matter, and each has a length of its own.
            guard colon == 14 || colon == 31 || colon == 17 || colon == 12 || colon == 10 else { continue }
            var valueStart = colon + 1
            while valueStart < line.count, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
            var valueEnd = line.count
            while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
            let value = UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd])
            switch colon {
            case 14 where equalsIgnoringCase(name, "content-length"):
                guard let number = decimal(value) else { throw .malformedHeader }
                parsed.contentLength = number
            case 31 where equalsIgnoringCase(name, "inference-header-content-length"):
                guard let number = decimal(value) else { throw .malformedHeader }
                parsed.inferenceHeaderLength = number
            case 17 where equalsIgnoringCase(name, "transfer-encoding"):
                parsed.chunked = containsIgnoringCase(value, "chunked")
            case 12 where equalsIgnoringCase(name, "content-type"):
                parsed.eventStream = containsIgnoringCase(value, "text/event-stream")
            case 10 where equalsIgnoringCase(name, "connection"):
                // Most servers send exactly one of the two; a list is searched.
                if equalsIgnoringCase(value, "keep-alive") {
                    parsed.connectionClose = false
                } else if equalsIgnoringCase(value, "close") {
                    parsed.connectionClose = true
                } else {
                    if containsIgnoringCase(value, "close") { parsed.connectionClose = true }
                    if containsIgnoringCase(value, "keep-alive") { parsed.connectionClose = false }
                }
            default:
                break
            }
        }
    }

    /// The index of the next LF at or after `start`, or nil when the line has not ended yet.
    @inline(__always)
    private static func lineEnd(_ base: UnsafeRawPointer, from start: Int, count: Int) -> Int? {
        ByteScan.first(0x0A, in: base, from: start, to: count)
    }

    /// A chunk's size line at the start of `bytes` ("1a", "1a;extension"): the size and the
    /// line's length with its CRLF, or nil while the CRLF has not arrived.
    private static func chunkSizeLine(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> (Int, Int)? {
        guard bytes.count >= 2 else { return nil }
        var size = 0
        var index = 0
        while index < bytes.count, let digit = JSONText.hexValue(bytes[index]) {
            size = size &* 16 &+ Int(digit)
            if size > 1 << 40 { throw .malformedChunk }
            index += 1
        }
        let sawDigit = index > 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A {
                guard sawDigit else { throw .malformedChunk }
                return (size, index + 2)
            }
            index += 1
        }
        return nil
    }

    private static func find(crlf buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard bytes.count >= 2 else { return nil }
            for index in 0..<(bytes.count - 1) where bytes[index] == 0x0D && bytes[index + 1] == 0x0A {
                return index
            }
            return nil
        }
    }

    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count < 19 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    @inline(__always)
    private static func fold(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    @inline(__always)
    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for index in 0..<bytes.count where fold(bytes[index]) != expected[index] { return false }
        return true
    }

    private static func containsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        lowercase.withUTF8Buffer { needle in
            guard bytes.count >= needle.count else { return false }
            outer: for start in 0...(bytes.count - needle.count) {
                for offset in 0..<needle.count where fold(bytes[start + offset]) != needle[offset] { continue outer }
                return true
            }
            return false
        }
    }
}
