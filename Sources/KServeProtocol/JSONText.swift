/// Small pieces of JSON (and HTTP) text handling shared by the hand-written parsers
/// of the client and the simulator.
public enum JSONText {
    /// The value of one hexadecimal digit, or nil for any other byte.
    @inline(__always)
    public static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The byte a one-letter escape (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`) stands for;
    /// nil for `\u` and for letters that are not escapes.
    @inline(__always)
    public static func simpleEscape(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return letter
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }

    /// The scalar a `\uD8xx\uDCxx` surrogate pair encodes.
    @inline(__always)
    public static func combineSurrogates(high: UInt32, low: UInt32) -> UInt32 {
        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    }

    /// Appends the UTF-8 encoding of a Unicode scalar value (from a `\u` escape).
    public static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            out.append(UInt8(scalar))
        case ..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Appends the decimal digits of `value` (a JSON number), without a String in between.
    public static func appendDecimal(_ value: some FixedWidthInteger, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = UInt64(value.magnitude)
        // 20 digits are the most a 64-bit magnitude has.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var at = buffer.count
            repeat {
                at -= 1
                buffer[at] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[at...]))
        }
    }

    /// Appends bytes as a JSON string: quotes, backslashes and control characters escaped
    /// (`\n`-style where JSON has a letter, else `\u00XX` in upper case), everything else as is.
    @inlinable
    public static func appendQuoted(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        // Contiguous bytes (arrays, buffers, a ByteBuffer's view) take the fast path.
        let done: Void? = bytes.withContiguousStorageIfAvailable { appendQuoted(UnsafeRawBufferPointer($0), to: &out) }
        if done == nil {
            Array(bytes).withUnsafeBytes { appendQuoted($0, to: &out) }
        }
    }

    /// The same, over raw bytes, eight at a time: a first pass bounds the escapes' length, so
    /// the array grows once; the second stores each word whole and steps back over it to the
    /// first byte that needs an escape, if any, which is written in place. The bound's unused
    /// tail is dropped at the end.
    public static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let count = bytes.count
        guard let base = bytes.baseAddress, count > 0 else {
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: "\""))
            return
        }
        var extraBound = 0
        var index = 0
        while index + 8 <= count {
            let (escaped, control) = ByteScan.stringStops(base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            extraBound += escaped.nonzeroBitCount + 5 * control.nonzeroBitCount
            index += 8
        }
        while index < count {
            let byte = bytes[index]
            if needsEscape(byte) { extraBound += escapeLength(byte) - 1 }
            index += 1
        }
        // Two quotes, and room for a whole word stored at the last position.
        let bound = count + extraBound + 2 + 8
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBytes { whole -> Int in
            let target = whole.baseAddress! + start
            target.storeBytes(of: UInt8(ascii: "\""), as: UInt8.self)
            var at = 1
            var index = 0
            while index + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                target.storeBytes(of: word, toByteOffset: at, as: UInt64.self)
                let (escaped, control) = ByteScan.stringStops(word)
                let marks = escaped | control
                guard marks != 0 else {
                    at += 8
                    index += 8
                    continue
                }
                let plain = ByteScan.firstMarked(marks)
                at += plain
                index += plain
                at += writeEscape(bytes[index], to: target + at)
                index += 1
            }
            while index < count {
                let byte = bytes[index]
                if needsEscape(byte) {
                    at += writeEscape(byte, to: target + at)
                } else {
                    target.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
                    at += 1
                }
                index += 1
            }
            target.storeBytes(of: UInt8(ascii: "\""), toByteOffset: at, as: UInt8.self)
            return at + 1
        }
        out.removeLast(bound - written)
    }

    /// Whether `byte` cannot stand as it is inside a JSON string.
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// How many bytes the escape of `byte` (a quote, a backslash or a control character) takes.
    @inline(__always)
    static func escapeLength(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: return 2
        default: return 6
        }
    }

    /// Writes the escape of `byte` at `target`; returns its length (`escapeLength`).
    @inline(__always)
    static func writeEscape(_ byte: UInt8, to target: UnsafeMutableRawPointer) -> Int {
        target.storeBytes(of: UInt8(ascii: "\\"), as: UInt8.self)
        let letter: UInt8
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): letter = byte
        case 0x08: letter = UInt8(ascii: "b")
        case 0x09: letter = UInt8(ascii: "t")
        case 0x0A: letter = UInt8(ascii: "n")
        case 0x0C: letter = UInt8(ascii: "f")
        case 0x0D: letter = UInt8(ascii: "r")
        default:
            target.storeBytes(of: UInt8(ascii: "u"), toByteOffset: 1, as: UInt8.self)
            target.storeBytes(of: UInt8(ascii: "0"), toByteOffset: 2, as: UInt8.self)
            target.storeBytes(of: UInt8(ascii: "0"), toByteOffset: 3, as: UInt8.self)
            target.storeBytes(of: hexDigit(byte >> 4), toByteOffset: 4, as: UInt8.self)
            target.storeBytes(of: hexDigit(byte & 0xF), toByteOffset: 5, as: UInt8.self)
            return 6
        }
        target.storeBytes(of: letter, toByteOffset: 1, as: UInt8.self)
        return 2
    }

    @inline(__always)
    static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    /// A string as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendQuoted(text.utf8, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
