/// A JSON number as scanned: where its text is, plus what the fast conversions need, gathered in
/// the same pass so most numbers never need a second look at their text.
struct JSONNumberToken {
    enum Special { case none, nan, infinity }

    var start: Int
    var end: Int
    var negative = false
    /// `NaN`, `Inf` and `Infinity` (optionally negative), which perf_analyzer's JSON reader accepts.
    var special = Special.none
    /// The decimal digits without the point, while they fit in 64 bits.
    var mantissa: UInt64 = 0
    /// True when the digits did not fit `mantissa`; conversions then read the text instead.
    var mantissaOverflowed = false
    /// Value is `mantissa × 10^exponent10` (when the mantissa did not overflow).
    var exponent10 = 0
    var hasFractionOrExponent = false

    /// A plain integer with its exact magnitude in `mantissa`.
    var isPlainInteger: Bool { special == .none && !hasFractionOrExponent && !mantissaOverflowed }
}

extension JSONByteScanner {
    /// Scans a number at the cursor, checking JSON's grammar (no leading zeros, digits after '.' and 'e').
    mutating func scanNumber() throws(JSONLoadFailure) -> JSONNumberToken {
        var token = JSONNumberToken(start: pos, end: pos)
        if bytes[pos] == UInt8(ascii: "-") {
            token.negative = true
            pos += 1
        }
        if bytes[pos] == UInt8(ascii: "N") || bytes[pos] == UInt8(ascii: "I") {
            if consume("NaN") {
                token.special = .nan
            } else if consume("Infinity") || consume("Inf") {
                token.special = .infinity
            } else {
                throw syntaxError("expected a value")
            }
            token.end = pos
            return token
        }
        let first = bytes[pos]
        guard Self.isDigit(first) else {
            throw syntaxError(token.negative ? "expected a digit after '-'" : "expected a value")
        }
        var fractionDigits = 0
        if first == UInt8(ascii: "0") {
            pos += 1
            if Self.isDigit(bytes[pos]) { throw .syntax("leading zeros are not allowed in numbers", at: pos - 1) }
        } else {
            accumulateDigits(into: &token, fractionDigits: &fractionDigits, isFraction: false)
        }
        if bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            token.hasFractionOrExponent = true
            guard Self.isDigit(bytes[pos]) else { throw syntaxError("expected a digit after '.'") }
            accumulateDigits(into: &token, fractionDigits: &fractionDigits, isFraction: true)
        }
        var exponent = 0
        if bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            token.hasFractionOrExponent = true
            var negativeExponent = false
            if bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") {
                negativeExponent = bytes[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard Self.isDigit(bytes[pos]) else { throw syntaxError("expected a digit in the exponent") }
            while Self.isDigit(bytes[pos]) {
                // Saturate: far past any float's range, the exact size no longer matters.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(bytes[pos] - UInt8(ascii: "0")) }
                pos += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        token.exponent10 = exponent - fractionDigits
        token.end = pos
        return token
    }

    /// Digits that no longer fit the mantissa are only skipped: the text is re-read in that case.
    private mutating func accumulateDigits(into token: inout JSONNumberToken, fractionDigits: inout Int, isFraction: Bool) {
        while Self.isDigit(bytes[pos]) {
            if !token.mantissaOverflowed {
                let (times10, overflow1) = token.mantissa.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[pos] - UInt8(ascii: "0")))
                if overflow1 || overflow2 {
                    token.mantissaOverflowed = true
                } else {
                    token.mantissa = sum
                    if isFraction { fractionDigits += 1 }
                }
            }
            pos += 1
        }
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }
}
