import KServeProtocol
import NIOCore

/// Hand-written JSON output for the infer hot path: responses are a handful of
/// fixed keys around tensor contents, which a general encoder would only slow down.
extension ByteBuffer {
    mutating func writeJSONString(_ text: String) {
        writeInteger(UInt8(ascii: "\""))
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            writeString(text)
        } else {
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""): writeStaticString("\\\"")
                case UInt8(ascii: "\\"): writeStaticString("\\\\")
                case UInt8(ascii: "\n"): writeStaticString("\\n")
                case UInt8(ascii: "\r"): writeStaticString("\\r")
                case UInt8(ascii: "\t"): writeStaticString("\\t")
                case 0..<0x20:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    writeStaticString("\\u00")
                    writeInteger(hex[Int(byte >> 4)])
                    writeInteger(hex[Int(byte & 0xF)])
                default: writeInteger(byte)
                }
            }
        }
        writeInteger(UInt8(ascii: "\""))
    }

    /// Decimal digits without a heap allocation (small strings live inline).
    @inline(__always)
    mutating func writeDecimal<T: BinaryInteger>(_ value: T) {
        writeString(String(value))
    }

    mutating func writeJSONShape(_ shape: [Int64]) {
        writeInteger(UInt8(ascii: "["))
        for (position, dim) in shape.enumerated() {
            if position > 0 { writeInteger(UInt8(ascii: ",")) }
            writeDecimal(dim)
        }
        writeInteger(UInt8(ascii: "]"))
    }

    /// Non-finite floats have no JSON spelling; they are written as null.
    mutating func writeJSONReal<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: T) {
        if value.isFinite { writeString(value.description) } else { writeStaticString("null") }
    }

    /// A tensor's contents as a flat JSON array (the form Triton answers with).
    mutating func writeJSONData(of tensor: Tensor) {
        writeInteger(UInt8(ascii: "["))
        tensor.data.withUnsafeReadableBytes { raw in
            if tensor.datatype == .bytes {
                var offset = 0
                var first = true
                while offset + 4 <= raw.count {
                    let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    offset += 4
                    let end = min(offset + length, raw.count)
                    if !first { writeInteger(UInt8(ascii: ",")) }
                    first = false
                    writeJSONString(String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<end]), as: UTF8.self))
                    offset = end
                }
                return
            }
            let size = tensor.datatype.elementSize!
            let count = raw.count / size
            for index in 0..<count {
                if index > 0 { writeInteger(UInt8(ascii: ",")) }
                let at = index * size
                func load<T: FixedWidthInteger>(_: T.Type) -> T {
                    T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
                }
                switch tensor.datatype {
                case .bool: writeString(raw[at] != 0 ? "true" : "false")
                case .uint8: writeDecimal(load(UInt8.self))
                case .uint16: writeDecimal(load(UInt16.self))
                case .uint32: writeDecimal(load(UInt32.self))
                case .uint64: writeDecimal(load(UInt64.self))
                case .int8: writeDecimal(load(Int8.self))
                case .int16: writeDecimal(load(Int16.self))
                case .int32: writeDecimal(load(Int32.self))
                case .int64: writeDecimal(load(Int64.self))
                case .fp16: writeJSONReal(HalfFloat.fromFP16Bits(load(UInt16.self)))
                case .bf16: writeJSONReal(HalfFloat.fromBF16Bits(load(UInt16.self)))
                case .fp32: writeJSONReal(Float(bitPattern: load(UInt32.self)))
                case .fp64: writeJSONReal(Double(bitPattern: load(UInt64.self)))
                case .bytes: break
                }
            }
        }
        writeInteger(UInt8(ascii: "]"))
    }
}
