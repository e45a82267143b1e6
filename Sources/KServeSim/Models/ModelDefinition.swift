import KServeProtocol

/// One input or output of a model, in config terms (`dims` exclude the batch dimension).
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var datatype: DataType
    /// -1 marks a dimension of any size.
    public var dims: [Int64]

    public init(name: String, datatype: DataType, dims: [Int64]) {
        self.name = name
        self.datatype = datatype
        self.dims = dims
    }
}

/// What a model's compute function receives.
public struct ComputeRequest: Sendable {
    public var modelName: String
    /// Validated inputs, in the order of the model's `inputs`.
    public var inputs: [Tensor]
    /// Sequence flags and correlation id, for models with sequence batching.
    public var sequence: SequenceControl?
}

/// Runs a model: returns one tensor per model output, in the order of `outputs`.
/// Throwing an ``InferError`` answers the request with 400 and that message.
public typealias ComputeFunction = @Sendable (ComputeRequest) throws -> [Tensor]

/// Runs a decoupled model: returns the responses for one request, each one tensor
/// per model output (in the order of `outputs`); an empty list sends no data responses.
public typealias DecoupledComputeFunction = @Sendable (ComputeRequest) throws -> [[Tensor]]

/// One step of an ensemble. Maps use Triton's direction: `inputMap[stepInput] =
/// ensembleTensor`, `outputMap[stepOutput] = ensembleTensor`.
public struct EnsembleStepDefinition: Sendable {
    public var modelName: String
    public var inputMap: [String: String]
    public var outputMap: [String: String]

    public init(modelName: String, inputMap: [String: String], outputMap: [String: String]) {
        self.modelName = modelName
        self.inputMap = inputMap
        self.outputMap = outputMap
    }
}

/// A simulated model: what it declares (metadata, config) and how it runs.
public struct ModelDefinition: Sendable {
    public enum Behavior: Sendable {
        case compute(ComputeFunction)
        case ensemble([EnsembleStepDefinition])
        /// Any number of responses per request; served only over gRPC streams, as Triton does.
        case decoupled(DecoupledComputeFunction)
    }

    public var name: String
    /// Metadata `platform`; "ensemble" marks an ensemble as Triton does.
    public var platform: String
    /// 0 means the model takes no batch dimension.
    public var maxBatchSize: Int
    public var inputs: [TensorSpec]
    public var outputs: [TensorSpec]
    /// `sequence_batching.control_input` of the config; nil for models without sequence batching.
    public var sequenceControls: [ModelConfig.ControlInput]?
    /// `model_transaction_policy.decoupled`; always true for a `.decoupled` behavior.
    public var decoupled: Bool
    public var behavior: Behavior

    public init(
        name: String, platform: String = "kserve-sim", maxBatchSize: Int,
        inputs: [TensorSpec], outputs: [TensorSpec],
        sequenceControls: [ModelConfig.ControlInput]? = nil, decoupled: Bool = false,
        behavior: Behavior
    ) {
        self.name = name
        self.platform = platform
        self.maxBatchSize = maxBatchSize
        self.inputs = inputs
        self.outputs = outputs
        self.sequenceControls = sequenceControls
        if case .decoupled = behavior {
            self.decoupled = true
        } else {
            self.decoupled = decoupled
        }
        self.behavior = behavior
    }

    public var usesSequenceBatching: Bool { sequenceControls != nil }

    /// The shape a request must match, batch dimension included (as metadata reports it).
    func fullShape(of spec: TensorSpec) -> [Int64] {
        maxBatchSize > 0 ? [-1] + spec.dims : spec.dims
    }

    var metadata: ModelMetadata {
        ModelMetadata(
            name: name, versions: ["1"], platform: platform,
            inputs: inputs.map { .init(name: $0.name, datatype: $0.datatype, shape: fullShape(of: $0)) },
            outputs: outputs.map { .init(name: $0.name, datatype: $0.datatype, shape: fullShape(of: $0)) })
    }

    var config: ModelConfig {
        var steps: [ModelConfig.EnsembleStep]?
        if case .ensemble(let definitions) = behavior {
            steps = definitions.map { ModelConfig.EnsembleStep(modelName: $0.modelName) }
        }
        let isEnsemble = steps != nil
        return ModelConfig(
            name: name,
            platform: isEnsemble ? "ensemble" : nil,
            backend: isEnsemble ? nil : "kserve-sim",
            maxBatchSize: Int64(maxBatchSize),
            input: inputs.map { .init(name: $0.name, dataType: $0.datatype, dims: $0.dims) },
            output: outputs.map { .init(name: $0.name, dataType: $0.datatype, dims: $0.dims) },
            sequenceBatching: sequenceControls.map(ModelConfig.SequenceBatching.init(controlInputs:)),
            decoupled: decoupled,
            ensembleSteps: steps)
    }
}
