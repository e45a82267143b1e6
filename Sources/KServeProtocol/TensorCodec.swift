/// Converts tensor contents between the JSON form (`data` arrays) and the raw
/// little-endian form that the binary extension and shared memory use.
public enum TensorCodec {
    public struct ConversionError: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Flattens nested arrays in row-major order.
    public static func flatten(_ value: JSONValue) -> [JSONValue] {
        guard case .array(let items) = value else { return [value] }
        var flat: [JSONValue] = []
        flat.reserveCapacity(items.count)
        for item in items {
            if case .array = item { flat.append(contentsOf: flatten(item)) } else { flat.append(item) }
        }
        return flat
    }

    /// Raw bytes of `values` as `datatype`. Values that do not fit the type are errors, never wrapped.
    public static func binary(fromJSON values: [JSONValue], datatype: DataType) throws(ConversionError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * (datatype.elementSize ?? 8))
        for (index, value) in values.enumerated() {
            try append(value, as: datatype, index: index, to: &out)
        }
        return out
    }

    static func append(_ value: JSONValue, as datatype: DataType, index: Int, to out: inout [UInt8]) throws(ConversionError) {
        func bad(_ expected: String) -> ConversionError {
            ConversionError("element \(index): expected \(expected) for \(datatype.rawValue), found \(describe(value))")
        }
        func integer<T: FixedWidthInteger>(_: T.Type) throws(ConversionError) -> T {
            switch value {
            case .int(let number):
                guard let fitted = T(exactly: number) else { throw bad("an integer in \(T.min)...\(T.max)") }
                return fitted
            case .uint(let number):
                guard let fitted = T(exactly: number) else { throw bad("an integer in \(T.min)...\(T.max)") }
                return fitted
            case .double(let number):
                guard let fitted = T(exactly: number) else { throw bad("an integer in \(T.min)...\(T.max)") }
                return fitted
            case .bool(let flag):
                return flag ? 1 : 0
            default:
                throw bad("a number")
            }
        }
        func real() throws(ConversionError) -> Double {
            switch value {
            case .int(let number): return Double(number)
            case .uint(let number): return Double(number)
            case .double(let number): return number
            case .bool(let flag): return flag ? 1 : 0
            default: throw bad("a number")
            }
        }
        switch datatype {
        case .bool:
            switch value {
            case .bool(let flag): out.append(flag ? 1 : 0)
            case .int(0), .uint(0): out.append(0)
            case .int(1), .uint(1): out.append(1)
            default: throw bad("true or false")
            }
        case .uint8: appendLittleEndian(try integer(UInt8.self), to: &out)
        case .uint16: appendLittleEndian(try integer(UInt16.self), to: &out)
        case .uint32: appendLittleEndian(try integer(UInt32.self), to: &out)
        case .uint64: appendLittleEndian(try integer(UInt64.self), to: &out)
        case .int8: appendLittleEndian(try integer(Int8.self), to: &out)
        case .int16: appendLittleEndian(try integer(Int16.self), to: &out)
        case .int32: appendLittleEndian(try integer(Int32.self), to: &out)
        case .int64: appendLittleEndian(try integer(Int64.self), to: &out)
        case .fp16: appendLittleEndian(HalfFloat.fp16Bits(Float(try real())), to: &out)
        case .bf16: appendLittleEndian(HalfFloat.bf16Bits(Float(try real())), to: &out)
        case .fp32: appendLittleEndian(Float(try real()).bitPattern, to: &out)
        case .fp64: appendLittleEndian(try real().bitPattern, to: &out)
        case .bytes:
            guard case .string(let text) = value else { throw bad("a string") }
            let utf8 = Array(text.utf8)
            appendLittleEndian(UInt32(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        }
    }

    /// JSON values of raw `bytes` holding `datatype` elements (BYTES: length-prefixed elements).
    public static func json(fromBinary bytes: [UInt8], datatype: DataType) throws(ConversionError) -> [JSONValue] {
        var values: [JSONValue] = []
        if datatype == .bytes {
            for element in try splitByteElements(bytes) {
                values.append(.string(String(decoding: element, as: UTF8.self)))
            }
            return values
        }
        let size = datatype.elementSize!
        guard bytes.count % size == 0 else {
            throw ConversionError("\(bytes.count) bytes is not a whole number of \(size)-byte \(datatype.rawValue) elements")
        }
        values.reserveCapacity(bytes.count / size)
        var offset = 0
        while offset < bytes.count {
            func load<T: FixedWidthInteger>(_: T.Type) -> T {
                var raw: T = 0
                for byteIndex in 0..<MemoryLayout<T>.size {
                    raw |= T(truncatingIfNeeded: bytes[offset + byteIndex]) << (8 * byteIndex)
                }
                return raw
            }
            switch datatype {
            case .bool: values.append(.bool(bytes[offset] != 0))
            case .uint8: values.append(.uint(UInt64(load(UInt8.self))))
            case .uint16: values.append(.uint(UInt64(load(UInt16.self))))
            case .uint32: values.append(.uint(UInt64(load(UInt32.self))))
            case .uint64: values.append(.uint(load(UInt64.self)))
            case .int8: values.append(.int(Int64(load(Int8.self))))
            case .int16: values.append(.int(Int64(load(Int16.self))))
            case .int32: values.append(.int(Int64(load(Int32.self))))
            case .int64: values.append(.int(load(Int64.self)))
            case .fp16: values.append(.double(Double(HalfFloat.fromFP16Bits(load(UInt16.self)))))
            case .bf16: values.append(.double(Double(HalfFloat.fromBF16Bits(load(UInt16.self)))))
            case .fp32: values.append(.double(Double(Float(bitPattern: load(UInt32.self)))))
            case .fp64: values.append(.double(Double(bitPattern: load(UInt64.self))))
            case .bytes: break
            }
            offset += size
        }
        return values
    }

    /// The 4-byte little-endian length prefix of the BYTES element at `offset` (4 bytes must be there).
    public static func byteElementLength(_ bytes: [UInt8], at offset: Int) -> Int {
        Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
    }

    /// Splits BYTES contents (4-byte little-endian length, then that many bytes, repeated).
    public static func splitByteElements(_ bytes: [UInt8]) throws(ConversionError) -> [ArraySlice<UInt8>] {
        var elements: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else {
                throw ConversionError("BYTES element \(elements.count): length prefix at byte \(offset) is cut short")
            }
            let length = byteElementLength(bytes, at: offset)
            offset += 4
            guard offset + length <= bytes.count else {
                throw ConversionError("BYTES element \(elements.count): length \(length) runs past the end (\(bytes.count - offset) bytes left)")
            }
            elements.append(bytes[offset..<(offset + length)])
            offset += length
        }
        return elements
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return String(flag)
        case .int(let number): return String(number)
        case .uint(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let text): return "\"\(text.prefix(32))\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

// Inlinable so that other modules get it specialized: the input-data loader calls it for every
// tensor element, and an unspecialized generic call costs more than the append.
@inlinable @inline(__always)
public func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    var little = value.littleEndian
    withUnsafeBytes(of: &little) { out.append(contentsOf: $0) }
}

/// IEEE half and bfloat16 conversions done on bit patterns, so they behave the same on every platform.
public enum HalfFloat {
    public static func fp16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        var mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0) }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            if halfExponent < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - halfExponent)
            var half = mantissa >> shift
            let remainder = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(halfExponent) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1) { half += 1 }
        return sign | UInt16(truncatingIfNeeded: half)
    }

    public static func fromFP16Bits(_ half: UInt16) -> Float {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = Int((half >> 10) & 0x1F)
        let mantissa = UInt32(half & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    public static func bf16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }

    public static func fromBF16Bits(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
