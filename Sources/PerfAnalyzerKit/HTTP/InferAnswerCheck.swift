import KServeProtocol

/// Checks, as the bytes go by, that a successful infer answer is a KServe inference response:
/// its JSON part (the whole body, or the first Inference-Header-Content-Length bytes) is one
/// JSON object with an "outputs" member. It does not decode values: strings and nesting are
/// followed just far enough to find its top-level keys. Once "outputs" is found (near the start
/// in Triton's and kserve-sim's answers) the rest is not walked: only its last byte must close
/// the object, so the cost is a pass over the header's first few dozen bytes.
struct InferAnswerCheck {
    enum Problem: Equatable, CustomStringConvertible {
        case notAnObject
        case unfinished
        case trailingBytes
        case noOutputs
        case headerLongerThanBody(header: Int, body: Int)

        var description: String {
            switch self {
            case .notAnObject: return "its JSON does not start with '{'"
            case .unfinished: return "its JSON object is cut short"
            case .trailingBytes: return "bytes follow its JSON object"
            case .noOutputs: return "its JSON object has no \"outputs\""
            case .headerLongerThanBody(let header, let body):
                return "Inference-Header-Content-Length is \(header) bytes but the body holds \(body)"
            }
        }
    }

    /// The key looked for, as static bytes (no array to reach through a lazy global).
    private static let outputsKey: StaticString = "outputs"

    private var started = false
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// Within a key of the top-level object: how many bytes of "outputs" it matched (-1: not it).
    private var keyMatched = -1
    /// At depth 1, between '{' or ',' and ':': the next string is a key.
    private var expectingKey = false
    private var closed = false
    private var sawOutputs = false
    /// After "outputs": only the last non-space byte is kept, to check the object closes.
    private var lastByte: UInt8 = 0
    private(set) var problem: Problem?

    mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        guard problem == nil else { return }
        if sawOutputs, !closed {
            noteLastByte(bytes)
            return
        }
        // The walk keeps its state in locals (registers), written back once at the end.
        var started = self.started, depth = self.depth, inString = self.inString, escaped = self.escaped
        var keyMatched = self.keyMatched, expectingKey = self.expectingKey, closed = self.closed
        let key = Self.outputsKey.utf8Start
        let keyCount = Self.outputsKey.utf8CodeUnitCount
        var found: Problem?
        var outputsEnd = -1
        var index = 0
        let count = bytes.count
        guard let base = bytes.baseAddress else { return }
        walk: while index < count {
            if inString, !escaped, keyMatched < 0 {
                // Inside a string that is not a candidate key only a quote or a backslash matters.
                index = ByteScan.first(UInt8(ascii: "\""), or: UInt8(ascii: "\\"), in: base, from: index, to: count)
                if index == count { break walk }
            }
            let byte = bytes[index]
            index += 1
            if closed {
                if !Self.isSpace(byte) { found = .trailingBytes; break walk }
                continue
            }
            if inString {
                if escaped {
                    escaped = false
                    keyMatched = -1
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                    keyMatched = -1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if keyMatched == keyCount {
                        outputsEnd = index
                        break walk
                    }
                    keyMatched = -1
                } else if keyMatched >= 0 {
                    keyMatched = keyMatched < keyCount && key[keyMatched] == byte ? keyMatched + 1 : -1
                }
                continue
            }
            if !started {
                if Self.isSpace(byte) { continue }
                guard byte == UInt8(ascii: "{") else { found = .notAnObject; break walk }
                started = true
                depth = 1
                expectingKey = true
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                // Most strings end in the same read with no escape in them: find the end in one
                // search (`ByteScan`) and compare a key as a whole. Otherwise walk it byte by byte below.
                let end = ByteScan.first(UInt8(ascii: "\""), or: UInt8(ascii: "\\"), in: base, from: index, to: count)
                if end < count, bytes[end] == UInt8(ascii: "\"") {
                    if depth == 1, expectingKey, end - index == keyCount, Self.equals(bytes, at: index, key, keyCount) {
                        outputsEnd = end + 1
                        break walk
                    }
                    index = end + 1
                    continue
                }
                inString = true
                keyMatched = depth == 1 && expectingKey ? 0 : -1
            case UInt8(ascii: ":"):
                if depth == 1 { expectingKey = false }
            case UInt8(ascii: ","):
                if depth == 1 { expectingKey = true }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { closed = true }
            default:
                break
            }
        }
        self.started = started
        self.depth = depth
        self.inString = inString
        self.escaped = escaped
        self.keyMatched = keyMatched
        self.expectingKey = expectingKey
        self.closed = closed
        if let found { problem = found }
        if outputsEnd >= 0 {
            sawOutputs = true
            noteLastByte(UnsafeRawBufferPointer(rebasing: bytes[outputsEnd...]))
        }
    }

    private mutating func noteLastByte(_ bytes: UnsafeRawBufferPointer) {
        var index = bytes.count
        while index > 0 {
            index -= 1
            if !Self.isSpace(bytes[index]) {
                lastByte = bytes[index]
                return
            }
        }
    }

    /// The verdict once the JSON part has been scanned in full.
    mutating func finish() -> Problem? {
        if problem == nil {
            if sawOutputs, !closed { closed = lastByte == UInt8(ascii: "}") }
            if !started { problem = .notAnObject } else if !closed { problem = .unfinished } else if !sawOutputs { problem = .noOutputs }
        }
        return problem
    }

    mutating func fail(_ problem: Problem) {
        if self.problem == nil { self.problem = problem }
    }

    @inline(__always)
    private static func equals(_ bytes: UnsafeRawBufferPointer, at start: Int, _ key: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for offset in 0..<count where bytes[start + offset] != key[offset] { return false }
        return true
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
