/// One request body of an OpenAI-compatible run, as the input data gave it.
struct OpenAIPayload: Sendable, Equatable {
    /// The body: the `payload` object's JSON, with the whitespace between tokens removed
    /// (perf_analyzer sends it re-serialized, compact, keys in file order).
    var body: [UInt8]
    /// `timestamp`: when `--fixed-schedule` sends it, msec after the start.
    var timestampMs: UInt64? = nil
    /// `session_id`: the multi-turn chat it belongs to (`--session-concurrency`).
    var sessionID: String? = nil
    /// `delay`: msec between this turn's answer and the session's next turn.
    var delayMs: UInt64? = nil
}

/// Reads perf_analyzer's input data for `--service-kind openai`:
/// `{"data": [{"payload": [{...request body...}]}, ...]}`, one request per entry, in file order,
/// several files appended. A `payload` is an array holding one object (perf_analyzer's JSON
/// tensor of shape [1]); a bare object is taken too.
enum OpenAIPayloadFile {
    static func load(paths: [String]) throws(InputDataError) -> [OpenAIPayload] {
        var payloads: [OpenAIPayload] = []
        for path in paths {
            payloads += try parse(FileBytes.contents(of: path, zeroTerminated: true), file: path)
        }
        return payloads
    }

    /// One file's entries; `bytes` ends with a 0 sentinel after the document.
    static func parse(_ bytes: [UInt8], file: String) throws(InputDataError) -> [OpenAIPayload] {
        var bytes = bytes
        let loaded: Result<[OpenAIPayload], JSONLoadFailure> = bytes.withUnsafeMutableBufferPointer { buffer in
            var scanner = JSONByteScanner(sentinelTerminated: UnsafeBufferPointer(buffer))
            do throws(JSONLoadFailure) {
                return .success(try parseDocument(&scanner))
            } catch {
                return .failure(error)
            }
        }
        switch loaded {
        case .success(let found):
            guard !found.isEmpty else { throw InputDataError("\(file): data: expected at least one entry with a payload, found an empty array") }
            return found
        case .failure(let failure):
            throw bytes.withUnsafeBufferPointer { failure.report(file: file, bytes: $0) }
        }
    }

    private static func parseDocument(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> [OpenAIPayload] {
        scanner.skipByteOrderMark()
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else { throw scanner.unexpected("expected an object with a 'data' array") }
        scanner.pos += 1
        scanner.skipWhitespace()
        var payloads: [OpenAIPayload]?
        if scanner.current != UInt8(ascii: "}") {
            repeat {
                let key = try readKey(&scanner)
                if key == "data" {
                    do {
                        payloads = try parseData(&scanner)
                    } catch {
                        throw error.inside(.key("data"))
                    }
                } else {
                    try scanner.skipValue()
                }
            } while try scanner.continues(closer: UInt8(ascii: "}"))
        } else {
            scanner.pos += 1
        }
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.syntaxError("unexpected text after the document") }
        guard let payloads else { throw .content("expected a 'data' member holding the requests, found none", at: 0) }
        return payloads
    }

    private static func parseData(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> [OpenAIPayload] {
        guard scanner.current == UInt8(ascii: "[") else { throw scanner.unexpected("expected an array of entries") }
        scanner.pos += 1
        scanner.skipWhitespace()
        var payloads: [OpenAIPayload] = []
        if scanner.current == UInt8(ascii: "]") {
            scanner.pos += 1
            return payloads
        }
        repeat {
            let index = payloads.count
            do {
                payloads.append(try parseEntry(&scanner))
            } catch {
                throw error.inside(.index(index))
            }
        } while try scanner.continues(closer: UInt8(ascii: "]"))
        return payloads
    }

    private static func parseEntry(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> OpenAIPayload {
        let entryStart = scanner.pos
        guard scanner.current == UInt8(ascii: "{") else { throw scanner.unexpected("expected an object with a 'payload' member") }
        scanner.pos += 1
        scanner.skipWhitespace()
        var body: [UInt8]?
        var timestamp: UInt64?
        var sessionID: String?
        var delay: UInt64?
        if scanner.current != UInt8(ascii: "}") {
            repeat {
                let key = try readKey(&scanner)
                do {
                    switch key {
                    case "payload": body = try parsePayload(&scanner)
                    case "timestamp": timestamp = try parseMilliseconds(&scanner)
                    case "delay": delay = try parseMilliseconds(&scanner)
                    case "session_id": sessionID = try parseSessionID(&scanner)
                    default: try scanner.skipValue()
                    }
                } catch {
                    throw error.inside(.key(key))
                }
            } while try scanner.continues(closer: UInt8(ascii: "}"))
        } else {
            scanner.pos += 1
        }
        guard let body else {
            throw .content("expected a 'payload' member holding the request body, found an entry without one", at: entryStart)
        }
        return OpenAIPayload(body: body, timestampMs: timestamp, sessionID: sessionID, delayMs: delay)
    }

    /// perf_analyzer's one-element input (`[v]`) or the bare value `v`, read by `value`.
    private static func singleValue<Value>(_ scanner: inout JSONByteScanner,
                                           _ value: (inout JSONByteScanner) throws(JSONLoadFailure) -> Value) throws(JSONLoadFailure) -> Value {
        guard scanner.current == UInt8(ascii: "[") else { return try value(&scanner) }
        scanner.pos += 1
        scanner.skipWhitespace()
        let read = try value(&scanner)
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "]") else { throw .content("expected one value in the array", at: scanner.pos) }
        scanner.pos += 1
        return read
    }

    /// `[N]` or `N`: whole milliseconds, 0 or more.
    private static func parseMilliseconds(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> UInt64 {
        try singleValue(&scanner) { (scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> UInt64 in
            let start = scanner.pos
            var value: UInt64 = 0
            var digits = 0
            while scanner.current >= UInt8(ascii: "0"), scanner.current <= UInt8(ascii: "9") {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(scanner.current - 0x30))
                guard !overflow1, !overflow2, sum <= 1 << 40 else { throw .content("expected milliseconds up to \(1 << 40), found a larger number", at: start) }
                value = sum
                digits += 1
                scanner.pos += 1
            }
            guard digits > 0, scanner.current != UInt8(ascii: "."), scanner.current != UInt8(ascii: "e"), scanner.current != UInt8(ascii: "E") else {
                scanner.pos = start
                throw scanner.unexpected("expected whole milliseconds, 0 or more (as [N] or N)")
            }
            return value
        }
    }

    /// `["id"]` or `"id"`.
    private static func parseSessionID(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> String {
        try singleValue(&scanner) { (scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> String in
            guard scanner.current == UInt8(ascii: "\"") else { throw scanner.unexpected("expected the session's id, a string (as [\"id\"] or \"id\")") }
            var bytes: [UInt8] = []
            try scanner.readString(appendingTo: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// `[{...}]` or `{...}`: the object's bytes, compacted.
    private static func parsePayload(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> [UInt8] {
        if scanner.current == UInt8(ascii: "[") {
            scanner.pos += 1
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: "{") else {
                throw scanner.unexpected("expected one request body object", syntax: "expected a request body object").inside(.index(0))
            }
            let body = try objectBytes(&scanner)
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: "]") else {
                if scanner.current == UInt8(ascii: ",") {
                    throw .content("expected one request body per payload, found more (each request is its own entry of 'data')", at: scanner.pos)
                }
                throw scanner.syntaxError("expected ']'")
            }
            scanner.pos += 1
            return body
        }
        guard scanner.current == UInt8(ascii: "{") else { throw scanner.unexpected("expected the request body, an object (or an array holding one)") }
        return try objectBytes(&scanner)
    }

    private static func objectBytes(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> [UInt8] {
        let start = scanner.pos
        try scanner.skipValue()
        let body = UnsafeBufferPointer(rebasing: scanner.bytes[start..<scanner.pos])
        // JSON is UTF-8, and a server would refuse the body; say so now, not mid-run.
        var decoder = UTF8()
        var iterator = body.makeIterator()
        var offset = start
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: break decoding
            case .error: throw .content("expected UTF-8 text, found a byte sequence that is not UTF-8", at: offset)
            }
        }
        return compact(body)
    }

    private static func readKey(_ scanner: inout JSONByteScanner) throws(JSONLoadFailure) -> String {
        guard scanner.current == UInt8(ascii: "\"") else { throw scanner.syntaxError("expected a string key") }
        var key: [UInt8] = []
        try scanner.readString(appendingTo: &key)
        scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: ":"), "expected ':' after a key")
        scanner.skipWhitespace()
        return String(decoding: key, as: UTF8.self)
    }

    /// Valid JSON without the whitespace between its tokens (strings kept byte for byte).
    static func compact(_ json: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x0A, 0x0D, 0x09: continue
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            out.append(byte)
        }
        return out
    }
}
