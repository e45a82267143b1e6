import KServeProtocol

/// The models every simulator serves. Add new models here: a definition says what
/// the model declares, and its compute closure says what it answers.
extension ModelCatalog {
    /// A fresh catalog; stateful models (sequences) get their own state per call.
    public static func standard() -> ModelCatalog {
        // The list is fixed and consistent, so building the catalog cannot fail.
        try! ModelCatalog([
            identity(name: "identity_fp32", datatype: .fp32, dims: [16], maxBatchSize: 8),
            // An image-sized tensor (588 KiB), where passing it through shared memory pays.
            identity(name: "identity_fp32_image", datatype: .fp32, dims: [3, 224, 224], maxBatchSize: 8),
            identity(name: "identity_int32_dynamic", datatype: .int32, dims: [-1, -1], maxBatchSize: 0),
            identity(name: "identity_bytes", datatype: .bytes, dims: [-1], maxBatchSize: 0),
            addSub(),
            sequenceAccumulator(),
            doubleFP32(),
            ensembleFP32(),
            repeatDecoupled(),
        ])
    }

    /// OUTPUT0 = INPUT0, same type and shape.
    static func identity(name: String, datatype: DataType, dims: [Int64], maxBatchSize: Int) -> ModelDefinition {
        ModelDefinition(
            name: name, maxBatchSize: maxBatchSize,
            inputs: [TensorSpec(name: "INPUT0", datatype: datatype, dims: dims)],
            outputs: [TensorSpec(name: "OUTPUT0", datatype: datatype, dims: dims)],
            behavior: .compute { request in [request.inputs[0].renamed("OUTPUT0")] })
    }

    /// OUTPUT0 = INPUT0 + INPUT1 and OUTPUT1 = INPUT0 - INPUT1, wrapping like C int32 arithmetic.
    static func addSub() -> ModelDefinition {
        ModelDefinition(
            name: "add_sub", maxBatchSize: 8,
            inputs: [TensorSpec(name: "INPUT0", datatype: .int32, dims: [4]),
                     TensorSpec(name: "INPUT1", datatype: .int32, dims: [4])],
            outputs: [TensorSpec(name: "OUTPUT0", datatype: .int32, dims: [4]),
                      TensorSpec(name: "OUTPUT1", datatype: .int32, dims: [4])],
            behavior: .compute { request in
                let (lhs, rhs) = (request.inputs[0], request.inputs[1])
                return [Tensor.combine(lhs, rhs, as: Int32.self, name: "OUTPUT0", &+),
                        Tensor.combine(lhs, rhs, as: Int32.self, name: "OUTPUT1", &-)]
            })
    }

    /// OUTPUT0 = 2 * INPUT0.
    static func doubleFP32() -> ModelDefinition {
        ModelDefinition(
            name: "double_fp32", maxBatchSize: 8,
            inputs: [TensorSpec(name: "INPUT0", datatype: .fp32, dims: [16])],
            outputs: [TensorSpec(name: "OUTPUT0", datatype: .fp32, dims: [16])],
            behavior: .compute { request in [request.inputs[0].mapFloat32(name: "OUTPUT0") { 2 * $0 }] })
    }

    /// identity_fp32 then double_fp32, so OUTPUT0 = 2 * INPUT0 and all three models count the request.
    static func ensembleFP32() -> ModelDefinition {
        ModelDefinition(
            name: "ensemble_fp32", platform: "ensemble", maxBatchSize: 8,
            inputs: [TensorSpec(name: "INPUT0", datatype: .fp32, dims: [16])],
            outputs: [TensorSpec(name: "OUTPUT0", datatype: .fp32, dims: [16])],
            behavior: .ensemble([
                EnsembleStepDefinition(modelName: "identity_fp32",
                                       inputMap: ["INPUT0": "INPUT0"], outputMap: ["OUTPUT0": "identity_out"]),
                EnsembleStepDefinition(modelName: "double_fp32",
                                       inputMap: ["INPUT0": "identity_out"], outputMap: ["OUTPUT0": "OUTPUT0"]),
            ]))
    }

    /// OUTPUT = running (wrapping) sum of INPUT over the requests of one sequence.
    static func sequenceAccumulator() -> ModelDefinition {
        let sums = SequenceStore<Int32>(initial: 0)
        let name = "sequence_accumulator"
        return ModelDefinition(
            name: name, maxBatchSize: 0,
            inputs: [TensorSpec(name: "INPUT", datatype: .int32, dims: [1])],
            outputs: [TensorSpec(name: "OUTPUT", datatype: .int32, dims: [1])],
            sequenceControls: [
                .init(name: "START", control: [.init(kind: SequenceControlKind.start)]),
                .init(name: "END", control: [.init(kind: SequenceControlKind.end)]),
                .init(name: "CORRID", control: [.init(kind: SequenceControlKind.correlationID, dataType: "TYPE_UINT64")]),
            ],
            behavior: .compute { request in
                let value = request.inputs[0].element(0, as: Int32.self)
                let sum = try sums.advance(request.sequence, modelName: name) { total -> Int32 in
                    total &+= value
                    return total
                }
                return [Tensor.make(name: "OUTPUT", datatype: .int32, shape: [1], elementType: Int32.self) { _ in sum }]
            })
    }
}
