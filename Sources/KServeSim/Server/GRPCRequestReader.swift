import KServeGRPC
import KServeProtocol
import NIOCore

/// Checks a gRPC `ModelInferRequest` against its model and turns it into the
/// plan and input tensors the executor runs, reusing the HTTP path's checks:
/// each input becomes a "binary" input whose bytes are its raw contents.
enum GRPCRequestReader {
    static func read(_ message: Inference_ModelInferRequest, model: ModelDefinition,
                     modelIndex: Int) throws(InferError) -> (plan: InferPlan, inputs: [Tensor]) {
        let name = model.name
        let raw = message.rawInputContents
        if !raw.isEmpty, raw.count != message.inputs.count {
            throw InferError("expected tensor data for \(message.inputs.count) inputs but got \(raw.count) sets of data for model '\(name)': raw_input_contents needs one entry per input, in input order")
        }

        var inputs: [InferRequestHeader.Input] = []
        var contents: [ByteBuffer] = []
        inputs.reserveCapacity(message.inputs.count)
        contents.reserveCapacity(message.inputs.count)
        for (position, input) in message.inputs.enumerated() {
            let bytes: ByteBuffer
            if !raw.isEmpty {
                guard !input.hasContents else {
                    throw InferError("contents field must not be specified when using raw_input_contents for '\(input.name)' for model '\(name)'")
                }
                bytes = ByteBuffer(bytes: raw[position])
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
            var entry = InferRequestHeader.Input(name: input.name, shape: input.shape, datatype: .bytes, parameters: parameters)
            entry.datatype = input.datatype  // kept as sent, so a bad one is named in the error
            inputs.append(entry)
            contents.append(bytes)
        }

        let outputs = message.outputs.isEmpty ? nil : message.outputs.map { output in
            InferRequestHeader.RequestedOutput(name: output.name, parameters: GRPCConversions.parameters(output.parameters))
        }
        let header = InferRequestHeader(id: message.id.isEmpty ? nil : message.id,
                                        parameters: GRPCConversions.parameters(message.parameters),
                                        inputs: inputs, outputs: outputs)
        let plan = try PlanBuilder.build(model: model, modelIndex: modelIndex, request: header, hasBinaryBody: true)

        // Every input declared binary_data_size, so the plan lists one segment per input, in request order.
        var tensors = plan.inputs
        for (segment, bytes) in zip(plan.segments, contents) {
            if tensors[segment.slot].datatype == .bytes {
                try InferPlan.checkByteElements(bytes, expected: tensors[segment.slot].elementCount,
                                                input: tensors[segment.slot].name, model: name)
            }
            tensors[segment.slot].data = bytes
        }
        return (plan, tensors)
    }
}
