import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private typealias F = InputDataFixtures

/// Checks the fast number paths against slow references on many generated decimals.
@Suite("Input data: number conversion against references")
struct InputDataRoundingTests {
    /// A random decimal: 1 to 20 significant digits, maybe a point, maybe an exponent.
    private static func randomDecimal(_ random: inout SplitMix64, exponents: ClosedRange<Int>) -> String {
        var digits = String(1 + random.next() % 9)
        for _ in 0..<(random.next() % 20) { digits += String(random.next() % 10) }
        if random.next() % 2 == 0 {
            let point = Int(random.next() % UInt64(digits.count))
            digits = point == 0 ? "0." + digits : String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        if random.next() % 3 != 0 {
            let span = UInt64(exponents.upperBound - exponents.lowerBound + 1)
            digits += (random.next() % 2 == 0 ? "e" : "E") + String(exponents.lowerBound + Int(random.next() % span))
        }
        return (random.next() % 2 == 0 ? "-" : "") + digits
    }

    /// `value` rounded to nearest-even with `bits` significand bits and the given minimum exponent (subnormals below it).
    private static func reference(_ value: Double, bits: Int, minExponent: Int) -> Double {
        guard value != 0, value.isFinite else { return value }
        let ulp = Double(sign: .plus, exponent: max(Int(value.exponent), minExponent) - (bits - 1), significand: 1)
        return (value / ulp).rounded(.toNearestOrEven) * ulp
    }

    /// Decimals just around halfway points of a 16-bit format, where double rounding would show.
    private static func nearHalfway(_ random: inout SplitMix64, decode: (UInt16) -> Float, finiteLimit: UInt16) -> String {
        let bits = UInt16(truncatingIfNeeded: random.next() % UInt64(finiteLimit))
        let low = Double(decode(bits)), high = Double(decode(bits + 1))
        var value = (low + high) / 2
        for _ in 0..<(random.next() % 3) { value = random.next() % 2 == 0 ? value.nextUp : value.nextDown }
        return (random.next() % 2 == 0 ? "-" : "") + "\(value)"
    }

    private func load(_ texts: [String], as datatype: DataType) throws -> [UInt8] {
        let model = F.model([F.tensor("X", datatype, [Int64(texts.count)])])
        let json = #"{"data": [{"X": [\#(texts.joined(separator: ", "))]}]}"#
        return try F.load(json, model).streams[0][0].tensors[0].bytes
    }

    @Test("FP64 and FP32 equal the standard library's correctly rounded parse")
    func wideFloats() throws {
        var random = SplitMix64(state: 64)
        let doubles = (0..<3000).map { _ in Self.randomDecimal(&random, exponents: -330...300) }
            .filter { Double($0)!.isFinite }
        #expect(try load(doubles, as: .fp64) == F.littleEndian(doubles.map { Double($0)!.bitPattern }))
        let floats = (0..<3000).map { _ in Self.randomDecimal(&random, exponents: -50...30) }
            .filter { Float($0)!.isFinite }
        #expect(try load(floats, as: .fp32) == F.littleEndian(floats.map { Float($0)!.bitPattern }))
    }

    @Test("FP16 and BF16 equal direct nearest-even rounding of the double, also next to halfway points")
    func halfFloats() throws {
        var random = SplitMix64(state: 16)
        var halves = (0..<2000).map { _ in Self.randomDecimal(&random, exponents: -12...4) }
        halves += (0..<2000).map { _ in Self.nearHalfway(&random, decode: HalfFloat.fromFP16Bits, finiteLimit: 0x7BFF) }
        let halfReference = halves.map { Self.reference(Double($0)!, bits: 11, minExponent: -14) }
        let keptHalves = zip(halves, halfReference).filter { abs($0.1) <= 65504 }
        #expect(try load(keptHalves.map(\.0), as: .fp16) == F.littleEndian(keptHalves.map { HalfFloat.fp16Bits(Float($0.1)) }))

        var brains = (0..<2000).map { _ in Self.randomDecimal(&random, exponents: -45...38) }
        brains += (0..<2000).map { _ in Self.nearHalfway(&random, decode: HalfFloat.fromBF16Bits, finiteLimit: 0x7F7F) }
        let brainReference = brains.map { Self.reference(Double($0)!, bits: 8, minExponent: -126) }
        let keptBrains = zip(brains, brainReference).filter { abs($0.1) <= Double(HalfFloat.fromBF16Bits(0x7F7F)) }
        #expect(try load(keptBrains.map(\.0), as: .bf16) == F.littleEndian(keptBrains.map { HalfFloat.bf16Bits(Float($0.1)) }))
    }

    @Test("integers of every width round-trip at random and at their limits")
    func integers() throws {
        var random = SplitMix64(state: 8)
        func check<T: FixedWidthInteger>(_: T.Type, _ datatype: DataType) throws {
            var values: [T] = [.min, .max, 0, 1, T.max - 1]
            if T.isSigned { values += [0 - 1, T.min + 1] }
            for _ in 0..<200 { values.append(T(truncatingIfNeeded: random.next())) }
            #expect(try load(values.map { "\($0)" }, as: datatype) == F.littleEndian(values))
        }
        try check(UInt8.self, .uint8)
        try check(UInt16.self, .uint16)
        try check(UInt32.self, .uint32)
        try check(UInt64.self, .uint64)
        try check(Int8.self, .int8)
        try check(Int16.self, .int16)
        try check(Int32.self, .int32)
        try check(Int64.self, .int64)
    }
}
