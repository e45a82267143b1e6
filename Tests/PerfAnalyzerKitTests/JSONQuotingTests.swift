import KServeProtocol
import Testing

/// `JSONText.appendQuoted` writes what escaping byte by byte writes, for any bytes, appended
/// after whatever the array held.
@Suite("Quoting bytes as a JSON string")
struct JSONQuotingTests {
    private static func naive(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for byte in bytes {
            switch byte {
            case 0x22: out += Array(#"\""#.utf8)
            case 0x5C: out += Array(#"\\"#.utf8)
            case 0x08: out += Array(#"\b"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case 0x0A: out += Array(#"\n"#.utf8)
            case 0x0C: out += Array(#"\f"#.utf8)
            case 0x0D: out += Array(#"\r"#.utf8)
            case ..<0x20:
                let hex = Array("0123456789ABCDEF".utf8)
                out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        return out + [0x22]
    }

    @Test("random bytes, plain text and the empty string")
    func matchesByteByByteEscaping() {
        var generator = SystemRandomNumberGenerator()
        var inputs: [[UInt8]] = [[], Array("plain text without escapes, longer than a word".utf8),
                                 Array(#"{"id":"chatcmpl-1","choices":[{"delta":{"content":"a\"b\\c\nd"}}]}"#.utf8)]
        for _ in 0..<300 {
            let count = Int.random(in: 0...70, using: &generator)
            // Mostly plain bytes, with escapes in runs and alone.
            inputs.append((0..<count).map { _ in
                Bool.random(using: &generator) ? UInt8.random(in: 0x20...0x7E, using: &generator)
                    : [0x00, 0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x1F, 0x22, 0x5C, 0x7F, 0xC3, 0xFF].randomElement(using: &generator)!
            })
        }
        var mismatches: [[UInt8]] = []
        for input in inputs {
            var out: [UInt8] = Array("prefix".utf8)
            JSONText.appendQuoted(input, to: &out)
            if out != Array("prefix".utf8) + Self.naive(input) { mismatches.append(input) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(3))")
    }

    @Test("decimals are written without a String, from 0 to the extremes of 64 bits")
    func decimals() {
        for value: Int64 in [0, 7, 10, 1_796_569_060_069_035_071, .max, .min, -42] {
            var out: [UInt8] = []
            JSONText.appendDecimal(value, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
        var out: [UInt8] = []
        JSONText.appendDecimal(UInt64.max, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(UInt64.max))
    }
}
