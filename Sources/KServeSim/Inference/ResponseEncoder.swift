import KServeProtocol
import NIOCore

/// Writes an inference response body: the JSON header, then the raw bytes of
/// the outputs sent as binary (in the order the header lists them).
enum ResponseEncoder {
    /// The body, and the JSON header's length when binary outputs follow it.
    static func encode(plan: InferPlan, outputs: [Tensor]) -> (body: ByteBuffer, headerLength: Int?) {
        var capacity = plan.responsePrefix.readableBytes + 8
        for planned in plan.outputs {
            let data = planned.sharedMemory == nil ? outputs[planned.index].data.readableBytes : 0
            // Binary: the bytes themselves; JSON: a generous guess at text per byte.
            capacity += 96 + (planned.binary ? data : data * 4)
        }
        var body = ByteBufferAllocator().buffer(capacity: capacity)
        body.writeImmutableBuffer(plan.responsePrefix)
        for (position, planned) in plan.outputs.enumerated() {
            let tensor = outputs[planned.index]
            if position > 0 { body.writeInteger(UInt8(ascii: ",")) }
            body.writeStaticString("{\"name\":")
            body.writeJSONString(tensor.name)
            body.writeStaticString(",\"datatype\":")
            body.writeJSONString(tensor.datatype.rawValue)
            body.writeStaticString(",\"shape\":")
            body.writeJSONShape(tensor.shape)
            if planned.sharedMemory != nil {
                // The bytes went to the region. Triton then sends name, datatype and shape only:
                // perf_analyzer's HTTP client fails on a "parameters" without binary_data_size.
                body.writeInteger(UInt8(ascii: "}"))
            } else if planned.binary {
                body.writeStaticString(",\"parameters\":{\"binary_data_size\":")
                body.writeDecimal(tensor.data.readableBytes)
                body.writeStaticString("}}")
            } else {
                body.writeStaticString(",\"data\":")
                body.writeJSONData(of: tensor)
                body.writeInteger(UInt8(ascii: "}"))
            }
        }
        body.writeStaticString("]}")
        guard plan.hasBinaryOutput else { return (body, nil) }
        let headerLength = body.readableBytes
        for planned in plan.outputs where planned.binary {
            body.writeImmutableBuffer(outputs[planned.index].data)
        }
        return (body, headerLength)
    }
}
