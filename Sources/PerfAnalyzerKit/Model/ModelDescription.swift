import KServeProtocol

/// What the engine knows about the model under test, merged from the server's
/// metadata and configuration answers.
public struct ModelDescription: Sendable, Equatable {
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var datatype: DataType
        /// Dimensions without the batch dimension; -1 marks a variable-sized dimension.
        public var shape: [Int64]
        public var optional: Bool

        public init(name: String, datatype: DataType, shape: [Int64], optional: Bool = false) {
            self.name = name
            self.datatype = datatype
            self.shape = shape
            self.optional = optional
        }
    }

    /// A model that runs as a step of an ensemble, whose server statistics are reported too.
    public struct ComposingModel: Sendable, Equatable, Hashable {
        public var name: String
        /// Empty for "the latest version".
        public var version: String
        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }

        /// An ensemble step; version -1 (or none) means the latest.
        public init(step: ModelConfig.EnsembleStep) {
            name = step.model_name
            version = step.model_version.map { $0.value < 0 ? "" : String($0.value) } ?? ""
        }
    }

    public struct SequenceControls: Sendable, Equatable {
        public var startInput: String?
        public var endInput: String?
        public var correlationIDInput: String?
        public var readyInput: String?
        public init(startInput: String? = nil, endInput: String? = nil, correlationIDInput: String? = nil, readyInput: String? = nil) {
            self.startInput = startInput
            self.endInput = endInput
            self.correlationIDInput = correlationIDInput
            self.readyInput = readyInput
        }
    }

    public var name: String
    public var version: String
    public var platform: String
    public var maxBatchSize: Int
    public var inputs: [Tensor]
    public var outputs: [Tensor]
    /// Set when the config has `sequence_batching`.
    public var sequenceControls: SequenceControls?
    public var isDecoupled: Bool
    /// Every model an ensemble runs (or a BLS model calls, from `--bls-composing-models`);
    /// empty for other models.
    public var composingModels: [ComposingModel]
    /// The response cache is on for the model or one of its composing models: the server's
    /// cache hits and misses are reported (perf_analyzer's rule).
    public var responseCacheEnabled: Bool = false
    /// The cache is on for the model itself, not only for its steps.
    public var topLevelResponseCache: Bool = false

    public var isSequence: Bool { sequenceControls != nil }
    public var isEnsemble: Bool { platform == "ensemble" }
    public var supportsBatching: Bool { maxBatchSize > 0 }

    public init(name: String, version: String, platform: String, maxBatchSize: Int, inputs: [Tensor], outputs: [Tensor],
                sequenceControls: SequenceControls? = nil, isDecoupled: Bool = false, composingModels: [ComposingModel] = []) {
        self.name = name
        self.version = version
        self.platform = platform
        self.maxBatchSize = maxBatchSize
        self.inputs = inputs
        self.outputs = outputs
        self.sequenceControls = sequenceControls
        self.isDecoupled = isDecoupled
        self.composingModels = composingModels
    }
}

public struct ModelDescriptionError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ModelDescription {
    /// Merges metadata and config. The config's dims are used because they leave out the
    /// batch dimension; the metadata's are the fallback for servers without configs.
    public static func make(metadata: ModelMetadata, config: ModelConfig?, requestedVersion: String) throws(ModelDescriptionError) -> ModelDescription {
        let maxBatchSize = Int(config?.max_batch_size?.value ?? 0)
        let configInputs = Dictionary((config?.input ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let configOutputs = Dictionary((config?.output ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func tensors(_ list: [ModelMetadata.Tensor], config: [String: ModelConfig.Tensor], kind: String) throws(ModelDescriptionError) -> [Tensor] {
            var result: [Tensor] = []
            for tensor in list {
                guard let datatype = DataType(anySpelling: tensor.datatype) else {
                    throw ModelDescriptionError("\(kind) '\(tensor.name)' of model '\(metadata.name)' has datatype '\(tensor.datatype)', which is not a KServe v2 datatype")
                }
                var shape = tensor.shape.map(\.value)
                if let configured = config[tensor.name] {
                    shape = configured.dims.map(\.value)
                } else if maxBatchSize > 0, !shape.isEmpty {
                    shape.removeFirst()
                }
                result.append(Tensor(name: tensor.name, datatype: datatype, shape: shape, optional: config[tensor.name]?.optional ?? false))
            }
            return result
        }
        var controls: SequenceControls?
        if let batching = config?.sequence_batching {
            var found = SequenceControls()
            for input in batching.control_input ?? [] {
                for control in input.control {
                    switch control.kind {
                    case SequenceControlKind.start: found.startInput = input.name
                    case SequenceControlKind.end: found.endInput = input.name
                    case SequenceControlKind.correlationID: found.correlationIDInput = input.name
                    case SequenceControlKind.ready: found.readyInput = input.name
                    default: break
                    }
                }
            }
            controls = found
        }
        let composing = (config?.ensemble_scheduling?.step ?? []).map(ComposingModel.init(step:))
        var description = ModelDescription(
            name: metadata.name,
            version: requestedVersion,
            platform: config?.platform ?? metadata.platform ?? "",
            maxBatchSize: maxBatchSize,
            inputs: try tensors(metadata.inputs, config: configInputs, kind: "input"),
            outputs: try tensors(metadata.outputs, config: configOutputs, kind: "output"),
            sequenceControls: controls,
            isDecoupled: config?.model_transaction_policy?.decoupled ?? false,
            composingModels: composing
        )
        description.topLevelResponseCache = config?.response_cache?.enable ?? false
        description.responseCacheEnabled = description.topLevelResponseCache
        return description
    }

    /// `-b` must fit the model: batching models take up to `max_batch_size`, others only 1.
    public func checkBatchSize(_ batchSize: Int) throws(ModelDescriptionError) {
        if maxBatchSize == 0 && batchSize > 1 {
            throw ModelDescriptionError("-b \(batchSize): model '\(name)' does not support batching (its max_batch_size is 0), so the batch size must be 1")
        }
        if maxBatchSize > 0 && batchSize > maxBatchSize {
            throw ModelDescriptionError("-b \(batchSize): model '\(name)' takes batches of at most \(maxBatchSize) (its max_batch_size)")
        }
    }
}
