import KServeProtocol
import NIOCore

/// Everything the server learns from a request's JSON header, already validated
/// against the model. Clients under load repeat the same header bytes, so plans are
/// cached by those bytes (``PlanCache``) and a repeated request costs no JSON work:
/// only slicing its binary tensors out of the body.
final class InferPlan: Sendable {
    /// Where an input's raw bytes sit after the JSON header (listed in body order).
    struct BinarySegment: Sendable {
        var slot: Int
        var size: Int
    }

    /// An input whose bytes come from a shared-memory region instead of the request.
    struct SharedInput: Sendable {
        var slot: Int
        var reference: SharedMemoryReference
    }

    /// An output to return: its index among the model's outputs, and its encoding. An
    /// output with a shared-memory reference is written there and the response carries
    /// no data for it (`binary` is then false).
    struct PlannedOutput: Sendable {
        var index: Int
        var binary: Bool
        var sharedMemory: SharedMemoryReference? = nil
    }

    let modelIndex: Int
    let modelName: String
    let requestID: String?
    let parameters: [String: JSONValue]?
    let sequence: SequenceControl?
    let batchSize: Int
    /// One tensor per model input, in model order. Inputs sent as JSON carry their
    /// converted bytes; inputs sent as binary get theirs from each request's body.
    let inputs: [Tensor]
    let segments: [BinarySegment]
    let binaryByteCount: Int
    /// Inputs read from shared memory (their tensors in `inputs` have no data).
    let sharedInputs: [SharedInput]
    let outputs: [PlannedOutput]
    /// Whether any input or output goes through shared memory (a request then needs its regions).
    let usesSharedMemory: Bool
    /// `{"model_name":...,"model_version":"1"[,"id":...],"outputs":[` — the same for every response.
    let responsePrefix: ByteBuffer
    let hasBinaryOutput: Bool

    init(modelIndex: Int, modelName: String, requestID: String?, parameters: [String: JSONValue]?,
         sequence: SequenceControl?, batchSize: Int, inputs: [Tensor], segments: [BinarySegment],
         sharedInputs: [SharedInput] = [], outputs: [PlannedOutput]) {
        self.modelIndex = modelIndex
        self.modelName = modelName
        self.requestID = requestID
        self.parameters = parameters
        self.sequence = sequence
        self.batchSize = batchSize
        self.inputs = inputs
        self.segments = segments
        self.binaryByteCount = segments.reduce(0) { $0 + $1.size }
        self.sharedInputs = sharedInputs
        self.outputs = outputs
        self.usesSharedMemory = !sharedInputs.isEmpty || outputs.contains { $0.sharedMemory != nil }
        self.hasBinaryOutput = outputs.contains { $0.binary }

        var prefix = ByteBufferAllocator().buffer(capacity: 64 + modelName.utf8.count)
        prefix.writeStaticString("{\"model_name\":")
        prefix.writeJSONString(modelName)
        prefix.writeStaticString(",\"model_version\":\"1\"")
        if let requestID {
            prefix.writeStaticString(",\"id\":")
            prefix.writeJSONString(requestID)
        }
        prefix.writeStaticString(",\"outputs\":[")
        self.responsePrefix = prefix
    }

    /// This request's input tensors: the plan's, with binary inputs sliced (not copied) out of `body`.
    func materializeInputs(body: ByteBuffer, jsonLength: Int) throws(InferError) -> [Tensor] {
        let tail = body.readableBytes - jsonLength
        guard tail == binaryByteCount else {
            throw InferError("unexpected size of binary tensor data for model '\(modelName)': the inputs declare \(binaryByteCount) bytes after the JSON header but the body has \(tail)")
        }
        if segments.isEmpty { return inputs }
        var tensors = inputs
        var offset = body.readerIndex + jsonLength
        for segment in segments {
            let slice = body.getSlice(at: offset, length: segment.size)!
            offset += segment.size
            if tensors[segment.slot].datatype == .bytes {
                try Self.checkByteElements(slice, expected: tensors[segment.slot].elementCount,
                                           input: tensors[segment.slot].name, model: modelName)
            }
            tensors[segment.slot].data = slice
        }
        return tensors
    }

    /// BYTES contents must split cleanly into exactly as many length-prefixed elements as the shape says.
    static func checkByteElements(_ data: ByteBuffer, expected: Int, input: String, model: String) throws(InferError) {
        let found: Int? = data.withUnsafeReadableBytes { raw in
            var offset = 0
            var count = 0
            while offset < raw.count {
                guard offset + 4 <= raw.count else { return nil }
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                offset += 4 + length
                guard offset <= raw.count else { return nil }
                count += 1
            }
            return count
        }
        guard let found else {
            throw InferError("malformed BYTES data for input '\(input)' for model '\(model)': an element's 4-byte length prefix runs past the end of the data")
        }
        guard found == expected else {
            throw InferError("expected \(expected) string elements for inference input '\(input)' for model '\(model)', got \(found)")
        }
    }
}
