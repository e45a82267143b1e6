import KServeGRPC
import KServeProtocol
import NIOCore

/// Checks a gRPC `ModelInferRequest` against its model and turns it into the
/// plan and input tensors the executor runs, reusing the HTTP path's checks:
/// each input becomes a "binary" input whose bytes are its raw contents, except
/// inputs that name a shared-memory region, which read their bytes from it.
enum GRPCRequestReader {
    static func read(_ message: Inference_ModelInferRequest, model: ModelDefinition, modelIndex: Int,
                     sharedMemory: SharedMemoryRegistry) throws(InferError) -> (plan: InferPlan, inputs: [Tensor]) {
        let name = model.name
        let raw = message.rawInputContents
        // raw_input_contents holds one entry per input that is not in shared memory, in input order.
        let inSharedMemory = message.inputs.map { $0.parameters[SharedMemoryParameter.region] != nil }
        let networkInputs = inSharedMemory.lazy.filter { !$0 }.count
        if !raw.isEmpty, raw.count != networkInputs {
            throw InferError("expected tensor data for \(networkInputs) inputs but got \(raw.count) sets of data for model '\(name)': raw_input_contents needs one entry per input not in shared memory, in input order")
        }

        var inputs: [InferRequestHeader.Input] = []
        var contents: [ByteBuffer] = []
        var nextRaw = 0
        inputs.reserveCapacity(message.inputs.count)
        contents.reserveCapacity(message.inputs.count)
        for (position, input) in message.inputs.enumerated() {
            if inSharedMemory[position] {
                guard !input.hasContents else {
                    throw InferError("unexpected 'content' provided when using shared memory for input tensor '\(input.name)' for model '\(name)'")
                }
                inputs.append(headerInput(input, parameters: GRPCConversions.parameters(input.parameters)))
                continue
            }
            let bytes: ByteBuffer
            if !raw.isEmpty {
                guard !input.hasContents else {
                    throw InferError("contents field must not be specified when using raw_input_contents for '\(input.name)' for model '\(name)'")
                }
                bytes = ByteBuffer(bytes: raw[nextRaw])
                nextRaw += 1
            } else {
                guard input.hasContents else {
                    throw InferError("input '\(input.name)' for model '\(name)' has no data: set its contents or send raw_input_contents")
                }
                guard let datatype = DataType(rawValue: input.datatype) else {
                    throw InferError("invalid datatype '\(input.datatype)' for input '\(input.name)' for model '\(name)'")
                }
                bytes = ByteBuffer(bytes: try GRPCConversions.rawBytes(of: input.contents, datatype: datatype,
                                                                       input: input.name, model: name))
            }
            var parameters = GRPCConversions.parameters(input.parameters) ?? [:]
            parameters["binary_data_size"] = .int(Int64(bytes.readableBytes))
            inputs.append(headerInput(input, parameters: parameters))
            contents.append(bytes)
        }

        let outputs = message.outputs.isEmpty ? nil : message.outputs.map { output in
            InferRequestHeader.RequestedOutput(name: output.name, parameters: GRPCConversions.parameters(output.parameters))
        }
        let header = InferRequestHeader(id: message.id.isEmpty ? nil : message.id,
                                        parameters: GRPCConversions.parameters(message.parameters),
                                        inputs: inputs, outputs: outputs)
        let plan = try PlanBuilder.build(model: model, modelIndex: modelIndex, request: header, hasBinaryBody: true)

        // Every input not in shared memory declared binary_data_size, so the plan lists one
        // segment for each of them, in request order, as `contents` does.
        var tensors = plan.inputs
        for (segment, bytes) in zip(plan.segments, contents) {
            if tensors[segment.slot].datatype == .bytes {
                try InferPlan.checkByteElements(bytes, expected: tensors[segment.slot].elementCount,
                                                input: tensors[segment.slot].name, model: name)
            }
            tensors[segment.slot].data = bytes
        }
        try plan.readSharedInputs(into: &tensors, registry: sharedMemory)
        return (plan, tensors)
    }

    /// The HTTP-path header entry of a gRPC input; its datatype is kept as sent, so a bad one
    /// is named in the plan builder's error.
    private static func headerInput(_ input: Inference_ModelInferRequest.InferInputTensor,
                                    parameters: [String: JSONValue]?) -> InferRequestHeader.Input {
        var entry = InferRequestHeader.Input(name: input.name, shape: input.shape, datatype: .bytes, parameters: parameters)
        entry.datatype = input.datatype
        return entry
    }
}
