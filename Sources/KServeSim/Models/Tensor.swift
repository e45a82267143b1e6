import KServeProtocol
import NIOCore

/// A tensor as models see it: raw little-endian contents in a `ByteBuffer`, so a
/// binary input can be a zero-copy slice of the request body and an identity
/// model can hand that same slice back as its output.
public struct Tensor: Sendable {
    public var name: String
    public var datatype: DataType
    public var shape: [Int64]
    public var data: ByteBuffer

    public init(name: String, datatype: DataType, shape: [Int64], data: ByteBuffer) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
    }

    /// Number of elements the shape describes.
    public var elementCount: Int { elementCountOf(shape) }

    /// The same contents under another name (how identity models and ensembles pass tensors on).
    public func renamed(_ newName: String) -> Tensor {
        var copy = self
        copy.name = newName
        return copy
    }
}

/// Element count of a validated (non-negative) shape.
@inline(__always)
func elementCountOf(_ shape: [Int64]) -> Int {
    var count = 1
    for dim in shape { count &*= Int(dim) }
    return count
}

extension Tensor {
    /// Builds a fixed-size tensor by letting `fill` write every element in place.
    public static func make<T: FixedWidthInteger>(
        name: String, datatype: DataType, shape: [Int64], elementType: T.Type,
        fill: (_ index: Int) -> T
    ) -> Tensor {
        let count = elementCountOf(shape)
        var buffer = ByteBufferAllocator().buffer(capacity: count * MemoryLayout<T>.size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count * MemoryLayout<T>.size) { raw in
            for index in 0..<count {
                raw.storeBytes(of: fill(index).littleEndian, toByteOffset: index * MemoryLayout<T>.size, as: T.self)
            }
            return count * MemoryLayout<T>.size
        }
        return Tensor(name: name, datatype: datatype, shape: shape, data: buffer)
    }

    /// Reads element `index` of a fixed-size integer (or float bit pattern) tensor.
    @inline(__always)
    public func element<T: FixedWidthInteger>(_ index: Int, as: T.Type) -> T {
        data.withUnsafeReadableBytes { raw in
            T(littleEndian: raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
        }
    }

    /// Element-wise combination of two same-shaped integer tensors.
    public static func combine<T: FixedWidthInteger>(
        _ lhs: Tensor, _ rhs: Tensor, as type: T.Type, name: String, _ operation: (T, T) -> T
    ) -> Tensor {
        lhs.data.withUnsafeReadableBytes { left in
            rhs.data.withUnsafeReadableBytes { right in
                make(name: name, datatype: lhs.datatype, shape: lhs.shape, elementType: T.self) { index in
                    let offset = index * MemoryLayout<T>.size
                    return operation(
                        T(littleEndian: left.loadUnaligned(fromByteOffset: offset, as: T.self)),
                        T(littleEndian: right.loadUnaligned(fromByteOffset: offset, as: T.self)))
                }
            }
        }
    }

    /// Applies `transform` to every element of an FP32 tensor.
    public func mapFloat32(name: String, _ transform: (Float) -> Float) -> Tensor {
        data.withUnsafeReadableBytes { raw in
            Tensor.make(name: name, datatype: .fp32, shape: shape, elementType: UInt32.self) { index in
                let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
                return transform(Float(bitPattern: bits)).bitPattern
            }
        }
    }
}
