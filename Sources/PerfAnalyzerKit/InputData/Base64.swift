/// Standard base64 (RFC 4648 alphabet, `=` padding) decoding that rejects anything else, so a
/// damaged payload is reported instead of silently shortened.
enum StrictBase64 {
    struct Failure: Error {
        var message: String
    }

    private static let invalid: UInt8 = 0xFF

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    /// Decodes `text`, appending the bytes to `out`. Padding may be left off; when present it must
    /// complete the last group of four.
    static func decode(_ text: [UInt8], appendingTo out: inout [UInt8]) throws(Failure) {
        var length = text.count
        var padding = 0
        while length > 0, padding < 2, text[length - 1] == UInt8(ascii: "=") {
            length -= 1
            padding += 1
        }
        if padding > 0, text.count % 4 != 0 {
            throw Failure(message: "invalid base64: \(text.count) characters with '=' padding is not a multiple of 4")
        }
        if length % 4 == 1 {
            throw Failure(message: "invalid base64: a single character cannot end the data (\(text.count) characters)")
        }
        out.reserveForAppending(length / 4 * 3 + 2)
        let table = values
        var group: UInt32 = 0
        var filled = 0
        for index in 0..<length {
            let character = text[index]
            let value = table[Int(character)]
            guard value != invalid else {
                let shown = character == UInt8(ascii: "=") ? "'='" : "'\(JSONByteScanner.printable(character))'"
                throw Failure(message: "invalid base64 character \(shown) at position \(index)")
            }
            group = group << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                out.append(UInt8(truncatingIfNeeded: group >> 16))
                out.append(UInt8(truncatingIfNeeded: group >> 8))
                out.append(UInt8(truncatingIfNeeded: group))
                group = 0
                filled = 0
            }
        }
        // A final group of 2 or 3 characters carries 1 or 2 bytes.
        if filled == 2 {
            out.append(UInt8(truncatingIfNeeded: group >> 4))
        } else if filled == 3 {
            out.append(UInt8(truncatingIfNeeded: group >> 10))
            out.append(UInt8(truncatingIfNeeded: group >> 2))
        }
    }
}
