import KServeProtocol
import NIOCore

/// Turns a request's JSON header into an ``InferPlan``, checking it against the
/// model the way Triton does (names, datatypes, shapes, batch size, byte sizes).
/// Runs only when the plan cache misses.
enum PlanBuilder {
    static func build(model: ModelDefinition, modelIndex: Int, header json: ByteBuffer,
                      hasBinaryBody: Bool) throws(InferError) -> InferPlan {
        // Triton's HTTP endpoint refuses decoupled models outright (they answer only over gRPC streams).
        if model.decoupled { throw InferError.decoupled(model: model.name, endpoint: "HTTP end point") }
        let request = try RequestHeaderReader.read(Array(json.readableBytesView))
        return try build(model: model, modelIndex: modelIndex, request: request, hasBinaryBody: hasBinaryBody)
    }

    /// Checks a request header already in structured form (the gRPC path builds one from the message).
    static func build(model: ModelDefinition, modelIndex: Int, request: InferRequestHeader,
                      hasBinaryBody: Bool) throws(InferError) -> InferPlan {
        let name = model.name

        // Match request inputs to the model's, by name.
        var slots = [InferRequestHeader.Input?](repeating: nil, count: model.inputs.count)
        var slotOfRequestInput: [Int] = []
        for input in request.inputs {
            guard let slot = model.inputs.firstIndex(where: { $0.name == input.name }) else {
                throw InferError("unexpected inference input '\(input.name)' for model '\(name)'")
            }
            guard slots[slot] == nil else {
                throw InferError("input '\(input.name)' appears more than once in the request for model '\(name)'")
            }
            slots[slot] = input
            slotOfRequestInput.append(slot)
        }
        let missing = model.inputs.indices.filter { slots[$0] == nil }.map { model.inputs[$0].name }
        if !missing.isEmpty {
            throw InferError("expected \(model.inputs.count) inputs but got \(request.inputs.count) inputs for model '\(name)'. Got input(s) \(quotedList(request.inputs.map(\.name))), but missing required input(s) \(quotedList(missing)). Please provide all required input(s).")
        }

        var batchSize: Int?
        var tensors: [Tensor] = []
        var sharedInputs: [InferPlan.SharedInput] = []
        for (slot, spec) in model.inputs.enumerated() {
            let input = slots[slot]!
            let (tensor, batch, shared) = try checkInput(input, spec: spec, model: model)
            if let batch {
                if let batchSize, batchSize != batch {
                    throw InferError("input '\(input.name)' batch size does not match other inputs for '\(name)'")
                }
                batchSize = batch
            }
            tensors.append(tensor)
            if let shared { sharedInputs.append(.init(slot: slot, reference: shared)) }
        }

        // Binary tensors follow the JSON in the order the request lists them.
        var segments: [InferPlan.BinarySegment] = []
        for (position, input) in request.inputs.enumerated() {
            guard let size = input.binaryDataSize else { continue }
            guard hasBinaryBody else {
                throw InferError("input '\(input.name)' for model '\(name)' declares binary_data_size but the request has no \(BinaryTensorHeader.headerContentLength) header")
            }
            segments.append(.init(slot: slotOfRequestInput[position], size: size))
        }

        let outputs = try plannedOutputs(request, model: model)
        let sequence = model.usesSequenceBatching
            ? try SequenceControl.parse(request.parameters, modelName: name) : nil
        return InferPlan(
            modelIndex: modelIndex, modelName: name, requestID: request.id, parameters: request.parameters,
            sequence: sequence, batchSize: batchSize ?? 1, inputs: tensors, segments: segments,
            sharedInputs: sharedInputs, outputs: outputs)
    }

    /// Validates one input; returns its tensor (with data when it came as JSON), its batch
    /// size, and where in shared memory its bytes are when it names a region.
    static func checkInput(_ input: InferRequestHeader.Input, spec: TensorSpec,
                           model: ModelDefinition) throws(InferError) -> (Tensor, Int?, SharedMemoryReference?) {
        let name = model.name
        guard let datatype = DataType(rawValue: input.datatype) else {
            throw InferError("invalid datatype '\(input.datatype)' for input '\(input.name)' for model '\(name)'")
        }
        guard datatype == spec.datatype else {
            throw InferError("inference input '\(input.name)' data-type is '\(datatype.rawValue)', but model '\(name)' expects '\(spec.datatype.rawValue)'")
        }
        let expected = model.fullShape(of: spec)
        let shapeMatches = input.shape.count == expected.count
            && zip(input.shape, expected).allSatisfy { got, want in got >= 0 && (want < 0 || got == want) }
        guard shapeMatches else {
            throw InferError("unexpected shape for input '\(input.name)' for model '\(name)'. Expected \(shapeText(expected)), got \(shapeText(input.shape))")
        }
        var batch: Int?
        if model.maxBatchSize > 0 {
            let size = Int(input.shape[0])
            guard size >= 1, size <= model.maxBatchSize else {
                throw InferError("inference request batch-size must be <= \(model.maxBatchSize) and >= 1 for '\(name)', got \(size)")
            }
            batch = size
        }

        let count = elementCountOf(input.shape)
        var tensor = Tensor(name: spec.name, datatype: datatype, shape: input.shape, data: ByteBuffer())
        if let shared = try SharedMemoryReference.parse(input.parameters, tensor: input.name) {
            guard input.data == nil, input.binaryDataSize == nil else {
                throw InferError("input '\(input.name)' for model '\(name)' takes its bytes from shared memory region '\(shared.region)', so it must not also carry 'data' or binary_data_size")
            }
            // BYTES elements carry their own lengths: their count is checked once the bytes are read.
            if let elementSize = datatype.elementSize, shared.byteSize != count * elementSize {
                throw InferError("input byte size mismatch for input '\(input.name)' for model '\(name)'. Expected \(count * elementSize), got \(shared.byteSize) (shared_memory_byte_size for region '\(shared.region)')")
            }
            return (tensor, batch, shared)
        }
        if let size = input.binaryDataSize {
            guard input.data == nil else {
                throw InferError("input '\(input.name)' for model '\(name)' has both 'data' and binary_data_size")
            }
            if let elementSize = datatype.elementSize, size != count * elementSize {
                throw InferError("input byte size mismatch for input '\(input.name)' for model '\(name)'. Expected \(count * elementSize), got \(size)")
            }
            guard size >= 0 else {
                throw InferError("negative binary_data_size for input '\(input.name)' for model '\(name)'")
            }
        } else if let data = input.data {
            let values = TensorCodec.flatten(data)
            guard values.count == count else {
                throw InferError("unexpected number of elements for input '\(input.name)' for model '\(name)'. Shape \(shapeText(input.shape)) needs \(count), got \(values.count)")
            }
            do {
                tensor.data = ByteBuffer(bytes: try TensorCodec.binary(fromJSON: values, datatype: datatype))
            } catch {
                throw InferError("unable to read 'data' of input '\(input.name)' for model '\(name)': \(error)")
            }
        } else {
            throw InferError("input '\(input.name)' for model '\(name)' has neither 'data' nor binary_data_size")
        }
        return (tensor, batch, nil)
    }

    /// The outputs to return: those the request names, or all; binary when asked for
    /// per output (`binary_data`) or for the whole request (`binary_data_output`).
    static func plannedOutputs(_ request: InferRequestHeader, model: ModelDefinition) throws(InferError) -> [InferPlan.PlannedOutput] {
        let binaryByDefault = request.parameters?["binary_data_output"]?.boolValue ?? false
        guard let requested = request.outputs, !requested.isEmpty else {
            return model.outputs.indices.map { .init(index: $0, binary: binaryByDefault) }
        }
        var planned: [InferPlan.PlannedOutput] = []
        for output in requested {
            guard let index = model.outputs.firstIndex(where: { $0.name == output.name }) else {
                throw InferError("unexpected inference output '\(output.name)' for model '\(model.name)'")
            }
            if output.parameters?["classification"] != nil {
                throw InferError("output '\(output.name)' for model '\(model.name)' asks for classification, which kserve-sim does not support")
            }
            if let shared = try SharedMemoryReference.parse(output.parameters, tensor: output.name) {
                planned.append(.init(index: index, binary: false, sharedMemory: shared))
                continue
            }
            planned.append(.init(index: index, binary: output.parameters?["binary_data"]?.boolValue ?? binaryByDefault))
        }
        return planned
    }

    static func shapeText(_ shape: [Int64]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }

    static func quotedList(_ names: [String]) -> String {
        "[" + names.map { "'\($0)'" }.joined(separator: ",") + "]"
    }
}
