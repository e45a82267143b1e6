import KServeProtocol
import NIOCore

/// The shared-memory side of one request: its inputs read from their regions when it
/// arrives, and the regions its outputs go to, held until it is answered.
extension InferPlan {
    /// Fills the shared-memory inputs of `tensors` (model order) from their regions. The
    /// bytes are copied when the request arrives, as a network input's are received, so
    /// the model and the recorder see exactly what the region held then.
    func readSharedInputs(into tensors: inout [Tensor], registry: SharedMemoryRegistry) throws(InferError) {
        for input in sharedInputs {
            let name = tensors[input.slot].name
            let span = try input.reference.resolve(in: registry, role: "input", tensor: name, model: modelName)
            let bytes = try span.read(role: "input", tensor: name)
            if tensors[input.slot].datatype == .bytes {
                try Self.checkByteElements(bytes, expected: tensors[input.slot].elementCount, input: name, model: modelName)
            }
            tensors[input.slot].data = bytes
        }
    }

    /// The regions this request's outputs are written to, by position in `outputs`
    /// (nil for outputs the response carries); empty when no output uses shared memory.
    func bindSharedOutputs(registry: SharedMemoryRegistry, model: ModelDefinition) throws(InferError) -> [SharedMemorySpan?] {
        guard outputs.contains(where: { $0.sharedMemory != nil }) else { return [] }
        var spans: [SharedMemorySpan?] = []
        for planned in outputs {
            guard let reference = planned.sharedMemory else {
                spans.append(nil)
                continue
            }
            spans.append(try reference.resolve(in: registry, role: "output", tensor: model.outputs[planned.index].name,
                                                model: modelName))
        }
        return spans
    }

    /// Writes the shared-memory outputs of one response into their regions; fails, naming
    /// both sizes, when an output needs more bytes than its request gave it.
    func writeSharedOutputs(_ tensors: [Tensor], to spans: [SharedMemorySpan?]) throws(InferError) {
        for (planned, span) in zip(outputs, spans) {
            guard let span else { continue }
            let tensor = tensors[planned.index]
            try span.write(tensor.data, tensor: tensor.name)
        }
    }
}

extension SharedMemorySpan {
    /// A copy of the referenced bytes.
    func read(role: String, tensor: String) throws(InferError) -> ByteBuffer {
        let (offset, count) = (reference.offset, reference.byteSize)
        do {
            return try mapping.withUnsafeMutableBytes { raw in
                ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count)]))
            }
        } catch {
            throw InferError("unable to read \(role) '\(tensor)' from shared memory region '\(reference.region)': \(error)")
        }
    }

    /// Copies `data` to the start of the referenced bytes (Triton's wording when it does not fit).
    func write(_ data: ByteBuffer, tensor: String) throws(InferError) {
        guard data.readableBytes <= reference.byteSize else {
            throw InferError("shared memory size specified with the request for output '\(tensor)' (\(reference.byteSize) bytes) should be at least \(data.readableBytes) bytes to hold the results")
        }
        let offset = reference.offset
        do {
            try mapping.withUnsafeMutableBytes { raw in
                data.withUnsafeReadableBytes { bytes in
                    guard let source = bytes.baseAddress else { return }
                    (raw.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count)
                }
            }
        } catch {
            throw InferError("unable to write output '\(tensor)' to shared memory region '\(reference.region)': \(error)")
        }
    }
}
