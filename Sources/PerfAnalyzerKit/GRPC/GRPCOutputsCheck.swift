/// Checks, as DATA frames go by, that a unary gRPC answer is a `ModelInferResponse` with
/// outputs: it walks the message's top-level protobuf fields (after gRPC's 5-byte prefix),
/// skipping values without reading them, until it meets `outputs` (5) or
/// `raw_output_contents` (6). No copy, no allocation; usually done within the first frame.
struct GRPCOutputsCheck {
    private enum State {
        case prefix(remaining: Int)
        case tag(value: UInt64, shift: UInt64)
        case varintValue
        case length(value: UInt64, shift: UInt64)
        case skip(remaining: UInt64)
        /// Found outputs, met a compressed message (not ours to read), or found it malformed.
        case done
    }

    private var state = State.prefix(remaining: 5)
    private var compressed = false
    private(set) var sawOutputs = false
    private(set) var malformed = false

    mutating func reset() {
        state = .prefix(remaining: 5)
        compressed = false
        sawOutputs = false
        malformed = false
    }

    /// What is wrong with the message once it has been fed in full; nil when it holds outputs.
    var problem: String? {
        if sawOutputs || compressed { return nil }
        return malformed ? "the server's answer is not a valid ModelInferResponse" : "the server's ModelInferResponse has no outputs"
    }

    mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return
            case .prefix(let remaining):
                if remaining == 5 { compressed = bytes[index] != 0 }
                if compressed { state = .done; return }
                state = remaining == 1 ? .tag(value: 0, shift: 0) : .prefix(remaining: remaining - 1)
                index += 1
            case .tag(let value, let shift):
                let byte = bytes[index]
                index += 1
                let tag = value | UInt64(byte & 0x7F) << shift
                if byte & 0x80 != 0 {
                    guard shift < 28 else { fail(); return }
                    state = .tag(value: tag, shift: shift + 7)
                    continue
                }
                let field = tag >> 3
                if field == 5 || field == 6 {
                    sawOutputs = true
                    state = .done
                    return
                }
                switch tag & 7 {
                case 0: state = .varintValue
                case 1: state = .skip(remaining: 8)
                case 2: state = .length(value: 0, shift: 0)
                case 5: state = .skip(remaining: 4)
                default: fail(); return
                }
            case .varintValue:
                if bytes[index] & 0x80 == 0 { state = .tag(value: 0, shift: 0) }
                index += 1
            case .length(let value, let shift):
                let byte = bytes[index]
                index += 1
                let length = value | UInt64(byte & 0x7F) << shift
                if byte & 0x80 != 0 {
                    guard shift < 56 else { fail(); return }
                    state = .length(value: length, shift: shift + 7)
                } else {
                    state = length == 0 ? .tag(value: 0, shift: 0) : .skip(remaining: length)
                }
            case .skip(let remaining):
                let available = UInt64(bytes.count - index)
                if remaining <= available {
                    index += Int(remaining)
                    state = .tag(value: 0, shift: 0)
                } else {
                    state = .skip(remaining: remaining - available)
                    return
                }
            }
        }
    }

    private mutating func fail() {
        malformed = true
        state = .done
    }
}
