import KServeProtocol

/// What one answer of an OpenAI-compatible server carries, read from its JSON in place (no
/// decoding, no allocation): a streamed chunk's `data`, or a whole non-streamed answer.
///
/// - content: some `content`, `text`, `reasoning_content` or `reasoning` member holds a
///   non-empty string (a chat delta, a completion's text, a reasoning model's thoughts); the
///   role-only first chunk and the final empty delta carry none;
/// - `usage.completion_tokens`, when the server counted the output;
/// - a top-level `error` member, with its `message` when it has one.
struct OpenAIChunkFacts: Equatable {
    var carriesContent = false
    var completionTokens: Int?
    var isError = false
    var errorMessage: Range<Int>?
    /// Not JSON: where it went wrong.
    var malformedAt: Int?

    /// `data: [DONE]`, the end of a stream.
    static func isDone(_ data: UnsafeRawBufferPointer) -> Bool {
        var start = 0
        var end = data.count
        while start < end, data[start] == 0x20 || data[start] == 0x09 { start += 1 }
        while end > start, data[end - 1] == 0x20 || data[end - 1] == 0x09 || data[end - 1] == 0x0D { end -= 1 }
        guard end - start == 6 else { return false }
        return data[start] == UInt8(ascii: "[") && data[start + 1] == UInt8(ascii: "D") && data[start + 2] == UInt8(ascii: "O")
            && data[start + 3] == UInt8(ascii: "N") && data[start + 4] == UInt8(ascii: "E") && data[start + 5] == UInt8(ascii: "]")
    }

    static func scan(_ json: UnsafeRawBufferPointer) -> OpenAIChunkFacts {
        var walker = Walker(bytes: json)
        var facts = OpenAIChunkFacts()
        walker.skipSpace()
        if walker.value(depth: 0, key: .other, parent: .other, facts: &facts) {
            walker.skipSpace()
            if walker.pos == json.count { return facts }
        }
        facts.malformedAt = min(walker.pos, json.count)
        return facts
    }

    /// The members the scan looks at.
    fileprivate enum Key {
        case content, usage, completionTokens, error, message, other
    }

    /// A validating walk over one JSON value; false on the first syntax error (at `pos`).
    private struct Walker {
        let bytes: UnsafeRawBufferPointer
        var pos = 0
        static let maxDepth = 64

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        @inline(__always) var byte: UInt8 { pos < bytes.count ? bytes[pos] : 0 }

        mutating func skipSpace() {
            while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 { pos += 1 }
        }

        mutating func value(depth: Int, key: Key, parent: Key, facts: inout OpenAIChunkFacts) -> Bool {
            guard depth < Self.maxDepth else { return false }
            switch byte {
            case UInt8(ascii: "{"):
                return object(depth: depth, key: key, facts: &facts)
            case UInt8(ascii: "["):
                pos += 1
                skipSpace()
                if byte == UInt8(ascii: "]") { pos += 1; return true }
                while true {
                    guard value(depth: depth + 1, key: .other, parent: key, facts: &facts) else { return false }
                    skipSpace()
                    if byte == UInt8(ascii: ",") { pos += 1; skipSpace(); continue }
                    if byte == UInt8(ascii: "]") { pos += 1; return true }
                    return false
                }
            case UInt8(ascii: "\""):
                guard let range = string() else { return false }
                if key == .content, !range.isEmpty { facts.carriesContent = true }
                if key == .message, parent == .error { facts.errorMessage = range }
                if key == .error, depth == 1 {
                    facts.isError = true
                    facts.errorMessage = range
                }
                return true
            default:
                let start = pos
                guard scalar() else { return false }
                if key == .completionTokens, parent == .usage { facts.completionTokens = integer(start..<pos) }
                return true
            }
        }

        private mutating func object(depth: Int, key: Key, facts: inout OpenAIChunkFacts) -> Bool {
            pos += 1
            if key == .error, depth == 1 { facts.isError = true }
            skipSpace()
            if byte == UInt8(ascii: "}") { pos += 1; return true }
            while true {
                guard byte == UInt8(ascii: "\""), let name = string() else { return false }
                skipSpace()
                guard byte == UInt8(ascii: ":") else { return false }
                pos += 1
                skipSpace()
                guard value(depth: depth + 1, key: memberKind(name, depth: depth + 1), parent: key, facts: &facts) else { return false }
                skipSpace()
                if byte == UInt8(ascii: ",") { pos += 1; skipSpace(); continue }
                if byte == UInt8(ascii: "}") { pos += 1; return true }
                return false
            }
        }

        /// A string at the cursor; its contents' range (escapes left as they are).
        private mutating func string() -> Range<Int>? {
            pos += 1
            let start = pos
            guard let base = bytes.baseAddress else { return nil }
            while true {
                // Plain bytes are passed a word at a time.
                pos = ByteScan.firstStringStop(in: base, from: pos, to: bytes.count)
                guard pos < bytes.count else { return nil }
                let byte = bytes[pos]
                if byte == UInt8(ascii: "\"") {
                    pos += 1
                    return start..<(pos - 1)
                }
                guard byte == UInt8(ascii: "\\") else { return nil }
                pos += 2
            }
        }

        /// A number, true, false or null.
        private mutating func scalar() -> Bool {
            // Each literal tried in turn; no array of them, which would allocate per value.
            if matches("true") { pos += 4; return true }
            if matches("false") { pos += 5; return true }
            if matches("null") { pos += 4; return true }
            let start = pos
            while pos < bytes.count {
                switch bytes[pos] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"),
                     UInt8(ascii: "E"):
                    pos += 1
                default:
                    return pos > start
                }
            }
            return pos > start
        }

        private func matches(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard pos + count <= bytes.count else { return false }
            return word.withUTF8Buffer { expected in
                for index in 0..<count where bytes[pos + index] != expected[index] { return false }
                return true
            }
        }

        private func integer(_ range: Range<Int>) -> Int? {
            var value = 0
            guard !range.isEmpty, range.count < 19 else { return nil }
            for index in range {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }

        private func memberKind(_ name: Range<Int>, depth: Int) -> Key {
            if equals(name, "content") || equals(name, "text") || equals(name, "reasoning_content") || equals(name, "reasoning") {
                return .content
            }
            if equals(name, "usage") { return .usage }
            if equals(name, "completion_tokens") { return .completionTokens }
            if depth == 1, equals(name, "error") { return .error }
            if equals(name, "message") { return .message }
            return .other
        }

        private func equals(_ range: Range<Int>, _ word: StaticString) -> Bool {
            guard range.count == word.utf8CodeUnitCount else { return false }
            return word.withUTF8Buffer { expected in
                for offset in 0..<range.count where bytes[range.lowerBound + offset] != expected[offset] { return false }
                return true
            }
        }
    }
}
