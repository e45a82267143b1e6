import KServeProtocol

/// Converts scanned JSON numbers straight into a tensor datatype's little-endian bytes.
/// Values that do not fit the type are errors, never wrapped or saturated.
enum NumberConversion {
    struct Failure: Error {
        var message: String
    }

    /// Appends `token` (whose text is in `scanner`) as one `datatype` element.
    static func append(_ token: JSONNumberToken, text scanner: JSONByteScanner, as datatype: DataType,
                       to out: inout [UInt8]) throws(Failure) {
        switch datatype {
        case .bool:
            guard let (negative, magnitude) = integer(token, scanner), magnitude <= 1, !negative || magnitude == 0 else {
                throw Failure(message: "expected true, false, 0 or 1 for BOOL, found \(found(token, scanner))")
            }
            out.append(UInt8(magnitude))
        case .uint8: appendLittleEndian(try fitted(UInt8.self, token, scanner, datatype), to: &out)
        case .uint16: appendLittleEndian(try fitted(UInt16.self, token, scanner, datatype), to: &out)
        case .uint32: appendLittleEndian(try fitted(UInt32.self, token, scanner, datatype), to: &out)
        case .uint64: appendLittleEndian(try fitted(UInt64.self, token, scanner, datatype), to: &out)
        case .int8: appendLittleEndian(try fitted(Int8.self, token, scanner, datatype), to: &out)
        case .int16: appendLittleEndian(try fitted(Int16.self, token, scanner, datatype), to: &out)
        case .int32: appendLittleEndian(try fitted(Int32.self, token, scanner, datatype), to: &out)
        case .int64: appendLittleEndian(try fitted(Int64.self, token, scanner, datatype), to: &out)
        case .fp64:
            let value = try double(token, scanner)
            try checkFinite(value.isInfinite, token, scanner, datatype, largest: "1.7976931348623157e308")
            appendLittleEndian(value.bitPattern, to: &out)
        case .fp32:
            let value = try float(token, scanner)
            try checkFinite(value.isInfinite, token, scanner, datatype, largest: "3.4028235e38")
            appendLittleEndian(value.bitPattern, to: &out)
        case .fp16:
            let bits = HalfFloat.fp16Bits(roundedToOdd(try double(token, scanner)))
            try checkFinite(bits & 0x7FFF == 0x7C00, token, scanner, datatype, largest: "65504")
            appendLittleEndian(bits, to: &out)
        case .bf16:
            let bits = HalfFloat.bf16Bits(roundedToOdd(try double(token, scanner)))
            try checkFinite(bits & 0x7FFF == 0x7F80, token, scanner, datatype, largest: "3.3895314e38")
            appendLittleEndian(bits, to: &out)
        case .bytes:
            throw Failure(message: "expected a string for BYTES, found \(found(token, scanner))")
        }
    }

    static func found(_ token: JSONNumberToken, _ scanner: JSONByteScanner) -> String {
        scanner.text(from: token.start, to: token.end)
    }

    // MARK: Integers

    private static func fitted<T: FixedWidthInteger>(_: T.Type, _ token: JSONNumberToken, _ scanner: JSONByteScanner,
                                                     _ datatype: DataType) throws(Failure) -> T {
        if let (negative, magnitude) = integer(token, scanner) {
            if !negative, let value = T(exactly: magnitude) { return value }
            // -m as T: m - 1 fits T exactly when -m does, and -(m - 1) - 1 cannot overflow.
            if negative, magnitude == 0 { return 0 }
            if negative, T.isSigned, let reduced = T(exactly: magnitude - 1) { return 0 - reduced - 1 }
        }
        throw Failure(message: "expected an integer in \(T.min)...\(T.max) for \(datatype.rawValue), found \(found(token, scanner))")
    }

    /// Sign and magnitude when the token is an integer that fits 64 bits; nil for fractions, NaN,
    /// infinities and anything larger. `1.0`, `1e3` and `-0` count as integers: their value is exact.
    static func integer(_ token: JSONNumberToken, _ scanner: JSONByteScanner) -> (Bool, UInt64)? {
        if token.isPlainInteger { return (token.negative, token.mantissa) }
        guard token.special == .none else { return nil }
        return exactInteger(UnsafeBufferPointer(rebasing: scanner.bytes[token.start..<token.end]))
    }

    /// Reads a number's text exactly (no floating point), for the rare integers written with a
    /// fraction or exponent, or with more digits than 64 bits hold.
    static func exactInteger(_ text: UnsafeBufferPointer<UInt8>) -> (Bool, UInt64)? {
        var index = 0
        let negative = text.first == UInt8(ascii: "-")
        if negative { index += 1 }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var inFraction = false
        while index < text.count, text[index] != UInt8(ascii: "e"), text[index] != UInt8(ascii: "E") {
            if text[index] == UInt8(ascii: ".") {
                inFraction = true
            } else {
                if !(digits.isEmpty && text[index] == UInt8(ascii: "0")) { digits.append(text[index] - UInt8(ascii: "0")) }
                if inFraction { fractionDigits += 1 }
            }
            index += 1
        }
        var exponent = 0
        if index < text.count {
            index += 1
            var negativeExponent = false
            if index < text.count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                negativeExponent = text[index] == UInt8(ascii: "-")
                index += 1
            }
            while index < text.count {
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(text[index] - UInt8(ascii: "0")) }
                index += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        // digits (leading zeros gone) × 10^scale; trailing zeros move into the scale.
        var scale = exponent - fractionDigits
        while let last = digits.last, last == 0 {
            digits.removeLast()
            scale += 1
        }
        if digits.isEmpty { return (negative, 0) }
        guard scale >= 0, digits.count + scale <= 20 else { return nil }
        var value: UInt64 = 0
        for digit in digits + [UInt8](repeating: 0, count: scale) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return (negative, value)
    }

    // MARK: Floating point

    private static let exactDoublePowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    private static let exactFloatPowers: [Float] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    /// The correctly rounded double. When mantissa and power of ten are both exact doubles, one
    /// IEEE multiply or divide rounds correctly (Clinger's fast path); otherwise the standard
    /// library's locale-independent, correctly rounding parser reads the text.
    static func double(_ token: JSONNumberToken, _ scanner: JSONByteScanner) throws(Failure) -> Double {
        switch token.special {
        case .nan: return .nan
        case .infinity: return token.negative ? -.infinity : .infinity
        case .none: break
        }
        if !token.mantissaOverflowed, token.mantissa <= 1 << 53, abs(token.exponent10) <= 22 {
            let mantissa = Double(token.mantissa)
            let power = exactDoublePowers[abs(token.exponent10)]
            let magnitude = token.exponent10 < 0 ? mantissa / power : mantissa * power
            return token.negative ? -magnitude : magnitude
        }
        guard let value = Double(scanner.text(from: token.start, to: token.end, limit: .max)) else { throw unreadable(token, scanner) }
        return value
    }

    /// The correctly rounded float, read directly from the decimal (not through a double, which
    /// could round twice).
    static func float(_ token: JSONNumberToken, _ scanner: JSONByteScanner) throws(Failure) -> Float {
        switch token.special {
        case .nan: return .nan
        case .infinity: return token.negative ? -.infinity : .infinity
        case .none: break
        }
        if !token.mantissaOverflowed, token.mantissa <= 1 << 24, abs(token.exponent10) <= 10 {
            let mantissa = Float(token.mantissa)
            let power = exactFloatPowers[abs(token.exponent10)]
            let magnitude = token.exponent10 < 0 ? mantissa / power : mantissa * power
            return token.negative ? -magnitude : magnitude
        }
        guard let value = Float(scanner.text(from: token.start, to: token.end, limit: .max)) else { throw unreadable(token, scanner) }
        return value
    }

    /// Rounds a double to float with round-to-odd: an inexact result gets an odd last bit. Float
    /// keeps more than two extra bits over FP16 and BF16, so HalfFloat's round-to-nearest from this
    /// float equals rounding the double directly: no double-rounding error at halfway points.
    static func roundedToOdd(_ value: Double) -> Float {
        let nearest = Float(value)
        guard nearest.isFinite, Double(nearest) != value, nearest.bitPattern & 1 == 0 else { return nearest }
        return Double(nearest) < value ? nearest.nextUp : nearest.nextDown
    }

    /// The standard library refused a number JSON allows; reported rather than guessed.
    private static func unreadable(_ token: JSONNumberToken, _ scanner: JSONByteScanner) -> Failure {
        Failure(message: "cannot read \(found(token, scanner)) as a floating-point number")
    }

    private static func checkFinite(_ isInfinite: Bool, _ token: JSONNumberToken, _ scanner: JSONByteScanner,
                                    _ datatype: DataType, largest: String) throws(Failure) {
        guard isInfinite, token.special == .none else { return }
        throw Failure(message: "\(found(token, scanner)) is out of range for \(datatype.rawValue) (largest finite magnitude \(largest))")
    }
}
