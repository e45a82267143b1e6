import KServeProtocol

/// Tensor values as perf_analyzer's profile export writes them: one element as a scalar,
/// several as a flat array, BYTES as one string (the raw bytes after the first element's
/// length prefix), no data as "", and FP16/BF16 as null. Numbers are written as its JSON
/// writer writes them, so the text of the two files agrees value for value.
enum ExportValueEncoding {
    /// The JSON text of one tensor's bytes.
    static func json(_ bytes: some Collection<UInt8>, datatype: DataType?, into out: inout [UInt8]) {
        guard let datatype else {
            out += Array("null".utf8)
            return
        }
        if datatype == .bytes {
            let text = bytes.count >= 4 ? bytes.dropFirst(4) : bytes.dropFirst(0)
            appendString(text, to: &out)
            return
        }
        guard let size = datatype.elementSize, datatype != .fp16, datatype != .bf16 else {
            out += Array("null".utf8)
            return
        }
        let count = bytes.count / size
        guard count > 0 else {
            out += Array("\"\"".utf8)
            return
        }
        let raw = Array(bytes)
        if count > 1 { out.append(UInt8(ascii: "[")) }
        for index in 0..<count {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(element(raw, at: index * size, datatype: datatype).utf8)
        }
        if count > 1 { out.append(UInt8(ascii: "]")) }
    }

    private static func element(_ raw: [UInt8], at offset: Int, datatype: DataType) -> String {
        func load<T: FixedWidthInteger>(_: T.Type) -> T {
            var value: T = 0
            for byte in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: raw[offset + byte]) << (8 * byte) }
            return value
        }
        switch datatype {
        case .bool: return raw[offset] != 0 ? "true" : "false"
        case .uint8: return String(raw[offset])
        case .uint16: return String(load(UInt16.self))
        case .uint32: return String(load(UInt32.self))
        case .uint64: return String(load(UInt64.self))
        case .int8: return String(Int8(bitPattern: raw[offset]))
        case .int16: return String(Int16(bitPattern: load(UInt16.self)))
        case .int32: return String(Int32(bitPattern: load(UInt32.self)))
        case .int64: return String(Int64(bitPattern: load(UInt64.self)))
        case .fp32: return number(Double(Float(bitPattern: load(UInt32.self))))
        case .fp64: return number(Double(bitPattern: load(UInt64.self)))
        case .fp16, .bf16, .bytes: return "null"
        }
    }

    /// A double in the shortest digits that read back to it, laid out as rapidjson does:
    /// plain decimals from 1e-6 up to 1e21 (`10.0`, `0.000001`), else `1.5e-7`, `1e21`.
    /// JSON has no NaN or infinity; they are written as null.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let sign = value.sign == .minus ? "-" : ""
        if value == 0 { return sign + "0.0" }
        // Swift prints the shortest round-trip digits; take them and the decimal exponent from its text.
        let text = value.magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1])! : 0
        let integerDigits = mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count
        var digits = Array(mantissa.filter { $0 != "." })
        // value = 0.DIGITS × 10^point
        var point = integerDigits + exponent
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let length = digits.count
        let body: String
        if point >= length && point <= 21 {
            body = String(digits) + String(repeating: "0", count: point - length) + ".0"
        } else if point > 0 && point <= 21 {
            body = String(digits[..<point]) + "." + String(digits[point...])
        } else if point > -6 && point <= 0 {
            body = "0." + String(repeating: "0", count: -point) + String(digits)
        } else if length == 1 {
            body = String(digits) + "e" + String(point - 1)
        } else {
            body = String(digits[0]) + "." + String(digits[1...]) + "e" + String(point - 1)
        }
        return sign + body
    }

    /// A JSON string of raw bytes, escaped as rapidjson escapes them (control characters as
    /// `\u00XX` in upper case, bytes from 0x7F up as they are).
    static func appendString(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        JSONText.appendQuoted(bytes, to: &out)
    }

    /// `{"NAME":value,...}` for named tensors, in the order given.
    static func object(_ tensors: [(name: String, datatype: DataType?, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, tensor) in tensors.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(tensor.name.utf8, to: &out)
            out.append(UInt8(ascii: ":"))
            json(tensor.bytes, datatype: tensor.datatype, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
