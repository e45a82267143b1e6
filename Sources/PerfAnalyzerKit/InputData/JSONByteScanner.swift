import KServeProtocol
/// A cursor over the raw bytes of a JSON document, with just the pieces the input-data schema needs.
///
/// The buffer ends with one extra 0 byte after the document (`end` is its index). No JSON token
/// contains a 0 byte, so every loop stops there without a separate bounds check, and `pos` never
/// passes `end`: the cursor only moves over a byte after matching it against something non-zero.
struct JSONByteScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let end: Int
    var pos: Int

    /// Nesting limit for arrays and skipped values, so hostile input cannot exhaust the stack.
    static let maxDepth = 100

    init(sentinelTerminated bytes: UnsafeBufferPointer<UInt8>) {
        precondition(!bytes.isEmpty && bytes[bytes.count - 1] == 0, "the buffer must end with a 0 sentinel")
        self.bytes = bytes
        self.end = bytes.count - 1
        self.pos = 0
    }

    @inline(__always) var current: UInt8 { bytes[pos] }
    var atEnd: Bool { pos >= end }

    @inline(__always) mutating func skipWhitespace() {
        while true {
            switch bytes[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    /// Skips a UTF-8 byte-order mark, which some editors write and JSON parsers commonly tolerate.
    mutating func skipByteOrderMark() {
        if end >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { pos = 3 }
    }

    func syntaxError(_ message: String) -> JSONLoadFailure {
        .syntax(atEnd ? "unexpected end of input; \(message)" : message, at: pos)
    }

    mutating func expect(_ byte: UInt8, _ message: @autoclosure () -> String) throws(JSONLoadFailure) {
        guard bytes[pos] == byte, !atEnd else { throw syntaxError(message()) }
        pos += 1
    }

    /// After a member or element: true when another follows (a comma was eaten), false at the closer.
    mutating func continues(closer: UInt8) throws(JSONLoadFailure) -> Bool {
        skipWhitespace()
        switch bytes[pos] {
        case UInt8(ascii: ","):
            pos += 1
            skipWhitespace()
            return true
        case closer where !atEnd:
            pos += 1
            return false
        default:
            throw syntaxError(closer == UInt8(ascii: "]") ? "expected ',' or ']'" : "expected ',' or '}'")
        }
    }

    /// Matches a literal word such as `true`; the cursor moves only on a full match.
    mutating func consume(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        let start = word.utf8Start
        for index in 0..<count where bytes[pos + index] != start[index] {
            return false  // a mismatch at the sentinel stops before reading past it
        }
        pos += count
        return true
    }

    // MARK: Strings

    /// Reads a string at the cursor (which is on its opening quote), decoding escapes into `out`.
    mutating func readString(appendingTo out: inout [UInt8]) throws(JSONLoadFailure) {
        pos += 1
        while true {
            let runStart = pos
            while true {
                let byte = bytes[pos]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                pos += 1
            }
            if pos > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<pos])) }
            let byte = bytes[pos]
            if byte == UInt8(ascii: "\"") {
                pos += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                try readEscape(appendingTo: &out)
                continue
            }
            if atEnd { throw .syntax("unexpected end of input inside a string", at: pos) }
            throw .syntax("control character 0x\(String(byte, radix: 16, uppercase: true)) must be escaped inside a string", at: pos)
        }
    }

    private mutating func readEscape(appendingTo out: inout [UInt8]) throws(JSONLoadFailure) {
        let escapeStart = pos
        pos += 1
        let letter = bytes[pos]
        if let replacement = JSONText.simpleEscape(letter) {
            out.append(replacement)
            pos += 1
            return
        }
        switch letter {
        case UInt8(ascii: "u"):
            pos += 1
            var scalar = try readHex4()
            if (0xDC00...0xDFFF).contains(scalar) {
                throw .syntax("invalid \\u escape: low surrogate without a high surrogate before it", at: escapeStart)
            }
            if (0xD800...0xDBFF).contains(scalar) {
                guard bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw .syntax("invalid \\u escape: high surrogate without a low surrogate after it", at: escapeStart)
                }
                pos += 2
                let low = try readHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw .syntax("invalid \\u escape: high surrogate without a low surrogate after it", at: escapeStart)
                }
                scalar = JSONText.combineSurrogates(high: scalar, low: low)
            }
            JSONText.appendUTF8(scalar, to: &out)
            return
        default:
            if atEnd { throw .syntax("unexpected end of input inside a string", at: pos) }
            throw .syntax("invalid escape '\\\(Self.printable(letter))' in a string", at: escapeStart)
        }
    }

    private mutating func readHex4() throws(JSONLoadFailure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[pos]
            guard let digit = JSONText.hexValue(byte) else { throw syntaxError("expected 4 hex digits after \\u") }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }


    // MARK: Skipping

    /// Skips any JSON value (checking its syntax), for keys the schema ignores.
    mutating func skipValue(depth: Int = 0) throws(JSONLoadFailure) {
        guard depth < Self.maxDepth else { throw syntaxError("values nested more than \(Self.maxDepth) deep") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            skipWhitespace()
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return
            }
            var scratch: [UInt8] = []
            repeat {
                guard bytes[pos] == UInt8(ascii: "\"") else { throw syntaxError("expected a string key") }
                scratch.removeAll(keepingCapacity: true)
                try readString(appendingTo: &scratch)
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "expected ':' after a key")
                skipWhitespace()
                try skipValue(depth: depth + 1)
            } while try continues(closer: UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            pos += 1
            skipWhitespace()
            if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return
            }
            repeat {
                try skipValue(depth: depth + 1)
            } while try continues(closer: UInt8(ascii: "]"))
        case UInt8(ascii: "\""):
            var scratch: [UInt8] = []
            try readString(appendingTo: &scratch)
        default:
            if consume("true") || consume("false") || consume("null") { return }
            _ = try scanNumber()
        }
    }

    /// What sits at the cursor, for "found ..." in content errors; nil where no JSON value starts.
    func describeValueHere() -> String? {
        switch bytes[pos] {
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "N"), UInt8(ascii: "I"): return "a number"
        default: return nil
        }
    }

    /// "expected X, found <what is here>" as a content error, or a syntax error when what is here
    /// is not JSON at all (bad syntax is the more useful report then).
    func unexpected(_ expectation: String, then suffix: String = "", syntax: String = "expected a value") -> JSONLoadFailure {
        guard let found = describeValueHere(), !atEnd else { return syntaxError(syntax) }
        return .content("\(expectation), found \(found)\(suffix)", at: pos)
    }

    static func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16, uppercase: true)
    }

    /// Source text of a token, shortened for messages.
    func text(from start: Int, to stop: Int, limit: Int = 40) -> String {
        let clipped = stop - start > limit ? start + limit : stop
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<clipped]), as: UTF8.self)
        return clipped < stop ? text + "..." : text
    }
}
