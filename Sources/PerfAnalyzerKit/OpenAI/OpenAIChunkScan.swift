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
            // The first byte says which literal it can be; nothing is tried in vain on numbers.
            switch byte {
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: break
            }
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

        /// `word` at the cursor, passed; false (the cursor kept) when the bytes differ.
        private mutating func literal(_ word: StaticString) -> Bool {
            guard pos + word.utf8CodeUnitCount <= bytes.count, equals(pos..<(pos + word.utf8CodeUnitCount), word) else { return false }
            pos += word.utf8CodeUnitCount
            return true
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
            // The names looked for differ in length but for pairs, so most names are ruled
            // out by their length alone.
            switch name.count {
            case 4: return equals(name, "text") ? .content : .other
            case 5:
                if equals(name, "usage") { return .usage }
                return depth == 1 && equals(name, "error") ? .error : .other
            case 7:
                if equals(name, "content") { return .content }
                return equals(name, "message") ? .message : .other
            case 9: return equals(name, "reasoning") ? .content : .other
            case 17:
                if equals(name, "reasoning_content") { return .content }
                return equals(name, "completion_tokens") ? .completionTokens : .other
            default: return .other
            }
        }

        /// Whether the bytes in `range` are `word` (an ASCII literal).
        private func equals(_ range: Range<Int>, _ word: StaticString) -> Bool {
            guard range.count == word.utf8CodeUnitCount else { return false }
            let expected = word.utf8Start
            for offset in 0..<range.count where bytes[range.lowerBound + offset] != expected[offset] { return false }
            return true
        }
    }
}
