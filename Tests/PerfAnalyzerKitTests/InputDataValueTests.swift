import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private typealias F = InputDataFixtures

/// One datatype's JSON elements and the bytes they must become.
struct ValueCase: Sendable, CustomTestStringConvertible {
    var datatype: DataType
    var elements: String
    var bytes: [UInt8]
    var testDescription: String { "\(datatype.rawValue) \(elements)" }
}

private func le<T: FixedWidthInteger>(_ values: T...) -> [UInt8] { F.littleEndian(values) }
private func fp32(_ texts: String...) -> [UInt8] { F.littleEndian(texts.map { Float($0)!.bitPattern }) }
private func fp64(_ texts: String...) -> [UInt8] { F.littleEndian(texts.map { Double($0)!.bitPattern }) }

private let valueCases: [ValueCase] = [
    ValueCase(datatype: .bool, elements: "[true, false, 1, 0]", bytes: [1, 0, 1, 0]),
    ValueCase(datatype: .uint8, elements: "[0, 255, 7, 1.0]", bytes: [0, 255, 7, 1]),
    ValueCase(datatype: .uint16, elements: "[0, 65535, 258, 1e2]", bytes: le(UInt16(0), 65535, 258, 100)),
    ValueCase(datatype: .uint32, elements: "[0, 4294967295, -0, 42]", bytes: le(UInt32(0), 4_294_967_295, 0, 42)),
    ValueCase(datatype: .uint64, elements: "[0, 18446744073709551615, 1844674407370955161.5e1, 10]",
              bytes: le(UInt64(0), .max, 18_446_744_073_709_551_615, 10)),
    ValueCase(datatype: .int8, elements: "[-128, 127, -1, 0]", bytes: le(Int8(-128), 127, -1, 0)),
    ValueCase(datatype: .int16, elements: "[-32768, 32767, -2, 3]", bytes: le(Int16(-32768), 32767, -2, 3)),
    ValueCase(datatype: .int32, elements: "[-2147483648, 2147483647, -2.5e1, 0]",
              bytes: le(Int32.min, .max, -25, 0)),
    ValueCase(datatype: .int64, elements: "[-9223372036854775808, 9223372036854775807, -1, 12345678901234]",
              bytes: le(Int64.min, .max, -1, 12_345_678_901_234)),
    // FP16: 1, -2, 0.5, the largest finite, the smallest subnormal (6e-8 rounds to 2^-24), and a value that rounds to 0.
    ValueCase(datatype: .fp16, elements: "[1, -2, 0.5, 65504, 6e-8, 1e-8]", bytes: le(UInt16(0x3C00), 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0000)),
    // BF16: 1, -2, pi rounded (3.140625 exactly), 1e38, and NaN/Infinity which perf_analyzer's reader accepts.
    ValueCase(datatype: .bf16, elements: "[1, -2, 3.14159, 3.140625, NaN, -Infinity]",
              bytes: le(UInt16(0x3F80), 0xC000, 0x4049, 0x4049, HalfFloat.bf16Bits(.nan), 0xFF80)),
    ValueCase(datatype: .fp32, elements: "[0.1, -1.5e-3, 16777217, 3.4028235e38, 1E+2, -0]",
              bytes: fp32("0.1", "-1.5e-3", "16777216", "3.4028235e38", "100", "-0.0")),
    ValueCase(datatype: .fp64, elements: "[0.1, 1e308, -2.5e-300, 5e-324, 123456789012345678901234567890, 7]",
              bytes: fp64("0.1", "1e308", "-2.5e-300", "5e-324", "1.2345678901234568e29", "7")),
    ValueCase(datatype: .bytes, elements: #"["hello", "", "é", "a\"b\\c\/d", "\u00e9\ud83d\ude00", "\n\t\r\b\f", "\u0000"]"#,
              bytes: F.byteElements(["hello", "", "é", "a\"b\\c/d", "é😀", "\n\t\r\u{8}\u{c}", "\u{0}"])),
]

@Suite("Input data: tensor values")
struct InputDataValueTests {
    private func loadOne(_ datatype: DataType, value: String, dims: [Int64] = [-1], shapes: [String: [Int64]] = [:]) throws -> DataStep.Tensor {
        let model = F.model([F.tensor("X", datatype, dims)])
        let set = try F.load(#"{"data": [{"X": \#(value)}]}"#, model, shapes: shapes)
        return set.streams[0][0].tensors[0]
    }

    @Test("a flat array converts each element to the datatype", arguments: valueCases)
    func flatArray(_ example: ValueCase) throws {
        let elementCount = example.elements.split(separator: ",").count
        let tensor = try loadOne(example.datatype, value: example.elements, shapes: ["X": [Int64(elementCount)]])
        #expect(tensor.bytes == example.bytes)
        #expect(tensor.shape == [Int64(elementCount)])
        #expect(tensor.datatype == example.datatype)
    }

    @Test("content with a shape gives the same bytes", arguments: valueCases)
    func contentWithShape(_ example: ValueCase) throws {
        let elementCount = example.elements.split(separator: ",").count
        let tensor = try loadOne(example.datatype, value: #"{"shape": [\#(elementCount)], "content": \#(example.elements)}"#)
        #expect(tensor.bytes == example.bytes)
        #expect(tensor.shape == [Int64(elementCount)])
    }

    @Test("b64 and content.b64 carry the raw bytes", arguments: valueCases)
    func base64(_ example: ValueCase) throws {
        let elementCount = example.elements.split(separator: ",").count
        let encoded = Data(example.bytes).base64EncodedString()
        let direct = try loadOne(example.datatype, value: #"{"b64": "\#(encoded)"}"#, shapes: ["X": [Int64(elementCount)]])
        #expect(direct.bytes == example.bytes)
        let nested = try loadOne(example.datatype, value: #"{"content": {"b64": "\#(encoded)"}, "shape": [1, \#(elementCount)]}"#, dims: [-1, -1])
        #expect(nested.bytes == example.bytes)
        #expect(nested.shape == [1, Int64(elementCount)])
    }

    @Test("nested arrays are flattened row-major")
    func nested() throws {
        let tensor = try loadOne(.int16, value: "[[1, 2, 3], [4, [5, 6]], []]", dims: [2, 3])
        #expect(tensor.bytes == le(Int16(1), 2, 3, 4, 5, 6))
        #expect(tensor.shape == [2, 3])
    }

    @Test("fixed model dims need no shape; an empty tensor is fine")
    func fixedDims() throws {
        #expect(try loadOne(.fp32, value: "[1, 2]", dims: [2]).shape == [2])
        #expect(try loadOne(.fp32, value: "[]", dims: [0]).bytes == [])
        #expect(try loadOne(.int32, value: #"{"content": [], "shape": [3, 0]}"#, dims: [-1, 0]).shape == [3, 0])
    }

    @Test("FP32 is the correctly rounded float of the decimal, not a double rounded again")
    func fp32CorrectRounding() throws {
        // Just above the halfway point between 1 and the next float: the nearest double is the
        // halfway point itself, which would round (to even) down to 1.
        let tensor = try loadOne(.fp32, value: "[1.0000000596046447753906251, 1.0000000596046447753906249, 3.4028235677973366e38]", dims: [3])
        #expect(tensor.bytes == F.littleEndian([UInt32(0x3F80_0001), 0x3F80_0000, 0x7F7F_FFFF]))
    }

    @Test("FP16 and BF16 avoid double rounding through float at halfway points")
    func halfRounding() throws {
        // 1 + 2^-11 is halfway between FP16 1 and its successor; this decimal lies just above it,
        // but its nearest float is the halfway point itself.
        let half = try loadOne(.fp16, value: "[1.0004882812500002, 1.00048828125, 1.0014648437499998]", dims: [3])
        #expect(half.bytes == le(UInt16(0x3C01), 0x3C00, 0x3C01))
        // 1 + 2^-8 is halfway between BF16 1 and its successor.
        let brain = try loadOne(.bf16, value: "[1.0039062500000002, 1.00390625]", dims: [2])
        #expect(brain.bytes == le(UInt16(0x3F81), 0x3F80))
    }

    @Test("integers that only fit exactly: INT64 extremes via exponent forms, UINT64 max")
    func integerEdges() throws {
        #expect(try loadOne(.int64, value: "[-9.223372036854775808e18, 9223372036854775807.000]", dims: [2]).bytes == le(Int64.min, .max))
        #expect(try loadOne(.uint64, value: "[18446744073709551615, 1.8446744073709551615e19]", dims: [2]).bytes == le(UInt64.max, .max))
        #expect(try loadOne(.int8, value: "[-0.0, 1.270e2, 0e99999999999]", dims: [3]).bytes == le(Int8(0), 127, 0))
    }

    @Test("BYTES b64 holds length-prefixed elements; the element count comes from the prefixes")
    func bytesBase64() throws {
        let raw = F.byteElements(["ab", "", "xyz"])
        let encoded = Data(raw).base64EncodedString()
        let tensor = try loadOne(.bytes, value: #"{"b64": "\#(encoded)"}"#, shapes: ["X": [3]])
        #expect(tensor.bytes == raw)
        #expect(tensor.shape == [3])
    }

    @Test("base64 may escape '/' as JSON allows and may leave padding off")
    func base64Forms() throws {
        #expect(try loadOne(.uint8, value: #"{"b64": "\/w=="}"#, shapes: ["X": [1]]).bytes == [0xFF])
        #expect(try loadOne(.uint8, value: #"{"b64": "/w"}"#, shapes: ["X": [1]]).bytes == [0xFF])
        #expect(try loadOne(.uint8, value: #"{"b64": "AAEC"}"#, shapes: ["X": [3]]).bytes == [0, 1, 2])
        #expect(try loadOne(.uint8, value: #"{"b64": ""}"#, shapes: ["X": [0]]).bytes == [])
    }

    @Test("whitespace everywhere, a byte-order mark, and unknown top-level keys are tolerated")
    func layout() throws {
        let model = F.model([F.tensor("X", .int32, [2])])
        let json = "\u{FEFF} \n\t{ \"comment\" : {\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\"} , \"data\" :\r\n [ { \"X\" : [ 1 ,\n 2 ] } ] , \"extra\": -1.5e3 }\n\n"
        let set = try F.load(json, model)
        #expect(set.streams[0][0].tensors[0].bytes == le(Int32(1), 2))
    }

    @Test("keys with escapes match input names after decoding")
    func escapedKeys() throws {
        let model = F.model([F.tensor("IN/PUT é", .uint8, [1])])
        let set = try F.load(#"{"data": [{"IN\/PUT \u00e9": [5]}]}"#, model)
        #expect(set.streams[0][0].tensors[0].name == "IN/PUT é")
    }
}
