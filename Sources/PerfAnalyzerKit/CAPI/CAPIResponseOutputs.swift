import KServeProtocol
import NIOCore

/// A response's outputs, copied out of Triton's memory on its callback thread (the response is
/// deleted there) into one buffer of our own form: per output, its name, Triton datatype, shape
/// and bytes. Only runs that validate or export read outputs back; both decode this form.
enum CAPIResponseOutputs {
    struct Tensor: Equatable {
        var name: String
        var datatype: DataType?
        var shape: [Int64]
        var bytes: [UInt8]
    }

    /// Every output of `response`, in the order Triton gives them.
    static func capture(_ response: OpaquePointer, api: TritonServerAPI) throws(TritonServerError) -> ByteBuffer {
        var count: UInt32 = 0
        try api.check(api.responseOutputCount(response, &count), "reading the response's outputs")
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        buffer.writeInteger(count)
        for index in 0..<count {
            var name: UnsafePointer<CChar>? = nil
            var datatype: UInt32 = 0
            var shape: UnsafePointer<Int64>? = nil
            var dimensionCount: UInt64 = 0
            var base: UnsafeRawPointer? = nil
            var byteCount = 0
            var memoryType: UInt32 = 0
            var memoryID: Int64 = 0
            var userp: UnsafeMutableRawPointer? = nil
            try api.check(api.responseOutput(response, index, &name, &datatype, &shape, &dimensionCount, &base, &byteCount,
                                             &memoryType, &memoryID, &userp), "reading output \(index) of the response")
            let text = name.map { String(cString: $0) } ?? ""
            // Our allocator hands out CPU memory only; anything else cannot be read here.
            guard memoryType != TritonServerAPI.memoryGPU else {
                throw TritonServerError("output '\(text)' is in GPU memory, which this kind does not read back")
            }
            buffer.writeInteger(UInt32(text.utf8.count))
            buffer.writeString(text)
            buffer.writeInteger(datatype)
            buffer.writeInteger(UInt32(dimensionCount))
            for dimension in 0..<Int(dimensionCount) { buffer.writeInteger(shape?[dimension] ?? 0) }
            buffer.writeInteger(UInt64(byteCount))
            if let base, byteCount > 0 { buffer.writeBytes(UnsafeRawBufferPointer(start: base, count: byteCount)) }
        }
        return buffer
    }

    /// The outputs `capture` wrote; nil if the buffer is not of that form.
    static func tensors(_ captured: ByteBuffer) -> [Tensor]? {
        var buffer = captured
        guard let count = buffer.readInteger(as: UInt32.self) else { return nil }
        var tensors: [Tensor] = []
        for _ in 0..<count {
            guard let nameLength = buffer.readInteger(as: UInt32.self), let name = buffer.readString(length: Int(nameLength)),
                  let code = buffer.readInteger(as: UInt32.self), let dimensionCount = buffer.readInteger(as: UInt32.self) else { return nil }
            var shape: [Int64] = []
            for _ in 0..<dimensionCount {
                guard let dimension = buffer.readInteger(as: Int64.self) else { return nil }
                shape.append(dimension)
            }
            guard let byteCount = buffer.readInteger(as: UInt64.self), let bytes = buffer.readBytes(length: Int(byteCount)) else { return nil }
            tensors.append(Tensor(name: name, datatype: CAPIRequestTable.dataType(tritonCode: code), shape: shape, bytes: bytes))
        }
        return tensors
    }

    /// The check the other kinds make, over captured outputs.
    static func mismatch(_ captured: ByteBuffer, expected: ExpectedOutputs) -> String? {
        guard let tensors = tensors(captured) else { return "validation of data step \(expected.step): the response's outputs could not be read" }
        var outputs: [String: [UInt8]] = [:]
        for tensor in tensors where outputs[tensor.name] == nil { outputs[tensor.name] = tensor.bytes }
        return ResponseValidator.mismatch(outputs: outputs, expected: expected)
    }
}
