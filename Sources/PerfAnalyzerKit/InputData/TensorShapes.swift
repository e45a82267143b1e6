import KServeProtocol

/// Shape arithmetic on untrusted shapes: overflow and negative dimensions are reported, never trapped.
enum TensorShapes {
    /// Element count of a shape, or nil when a dimension is negative or the product overflows.
    static func elementCount(_ shape: [Int64]) -> Int? {
        var count = 1
        for dim in shape {
            guard dim >= 0, let dimension = Int(exactly: dim) else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Byte size of `count` fixed-size elements, or nil on overflow.
    static func byteCount(_ count: Int, of datatype: DataType) -> Int? {
        guard let size = datatype.elementSize else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        return overflow ? nil : bytes
    }

    /// `a × b`, or nil on overflow or a negative factor.
    static func multiplied(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : product
    }

    static func isFixed(_ shape: [Int64]) -> Bool {
        shape.allSatisfy { $0 >= 0 }
    }

    /// Whether `shape` can be sent for a tensor the model declares as `dims`: same rank, and equal
    /// wherever the model fixes a size (perf_analyzer checks the same).
    static func fits(_ shape: [Int64], modelDims dims: [Int64]) -> Bool {
        shape.count == dims.count && zip(shape, dims).allSatisfy { $1 < 0 || $0 == $1 }
    }

    /// Element count of BYTES data (4-byte little-endian length, then that many bytes, repeated).
    static func countByteElements(_ bytes: [UInt8]) -> Result<Int, BytesLayoutError> {
        countByteElements(bytes[...])
    }

    static func countByteElements(_ bytes: ArraySlice<UInt8>) -> Result<Int, BytesLayoutError> {
        var count = 0
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            guard bytes.endIndex - offset >= 4 else {
                return .failure(BytesLayoutError(message: "BYTES element \(count): its 4-byte length prefix is cut short (\(bytes.endIndex - offset) bytes left)"))
            }
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            offset += 4
            guard length <= bytes.endIndex - offset else {
                return .failure(BytesLayoutError(message: "BYTES element \(count): length \(length) runs past the end (\(bytes.endIndex - offset) bytes left)"))
            }
            offset += length
            count += 1
        }
        return .success(count)
    }

    struct BytesLayoutError: Error {
        var message: String
    }

    static func describe(_ shape: [Int64]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
