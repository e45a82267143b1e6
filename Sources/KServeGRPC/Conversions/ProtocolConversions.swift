import KServeProtocol

// Conversions between the generated gRPC messages and the KServe types the HTTP side
// already uses, so the client and the simulator describe models in one vocabulary
// whichever protocol carried them.

extension Inference_DataType {
    /// The config enum for a tensor datatype (`BYTES` is Triton's `TYPE_STRING`).
    public init(_ type: DataType) {
        switch type {
        case .bool: self = .typeBool
        case .uint8: self = .typeUint8
        case .uint16: self = .typeUint16
        case .uint32: self = .typeUint32
        case .uint64: self = .typeUint64
        case .int8: self = .typeInt8
        case .int16: self = .typeInt16
        case .int32: self = .typeInt32
        case .int64: self = .typeInt64
        case .fp16: self = .typeFp16
        case .bf16: self = .typeBf16
        case .fp32: self = .typeFp32
        case .fp64: self = .typeFp64
        case .bytes: self = .typeString
        }
    }

    /// The tensor datatype, nil for `TYPE_INVALID` and values this build does not know.
    public var dataType: DataType? {
        switch self {
        case .typeBool: .bool
        case .typeUint8: .uint8
        case .typeUint16: .uint16
        case .typeUint32: .uint32
        case .typeUint64: .uint64
        case .typeInt8: .int8
        case .typeInt16: .int16
        case .typeInt32: .int32
        case .typeInt64: .int64
        case .typeFp16: .fp16
        case .typeBf16: .bf16
        case .typeFp32: .fp32
        case .typeFp64: .fp64
        case .typeString: .bytes
        default: nil
        }
    }

    /// The name Triton's JSON config uses (`TYPE_FP32`, `TYPE_STRING`, …).
    public var configName: String {
        guard let type = dataType else { return "TYPE_INVALID" }
        return type == .bytes ? "TYPE_STRING" : "TYPE_" + type.rawValue
    }

    init(configName: String) {
        let text = configName.hasPrefix("TYPE_") ? String(configName.dropFirst(5)) : configName
        self = DataType(anySpelling: text == "STRING" ? "BYTES" : text).map(Inference_DataType.init) ?? .typeInvalid
    }
}

extension Inference_ModelSequenceBatching.Control.Kind {
    public init?(configName: String) {
        switch configName {
        case SequenceControlKind.start: self = .controlSequenceStart
        case SequenceControlKind.ready: self = .controlSequenceReady
        case SequenceControlKind.end: self = .controlSequenceEnd
        case SequenceControlKind.correlationID: self = .controlSequenceCorrid
        default: return nil
        }
    }

    public var configName: String {
        switch self {
        case .controlSequenceStart: SequenceControlKind.start
        case .controlSequenceReady: SequenceControlKind.ready
        case .controlSequenceEnd: SequenceControlKind.end
        case .controlSequenceCorrid: SequenceControlKind.correlationID
        default: "CONTROL_UNKNOWN"
        }
    }
}

extension ModelConfig {
    /// The parts of a gRPC model config that the HTTP (JSON) config carries too.
    public init(_ proto: Inference_ModelConfig) {
        func tensor(_ name: String, _ type: Inference_DataType, _ dims: [Int64], _ optional: Bool) -> Tensor {
            var tensor = Tensor(name: name, dataType: .bool, dims: dims, optional: optional ? true : nil)
            tensor.data_type = type.configName
            return tensor
        }
        let isSequence: Bool
        if case .sequenceBatching = proto.schedulingChoice { isSequence = true } else { isSequence = false }
        self.init(
            name: proto.name,
            platform: proto.platform.isEmpty ? nil : proto.platform,
            backend: proto.backend.isEmpty ? nil : proto.backend,
            maxBatchSize: Int64(proto.maxBatchSize),
            input: proto.input.map { tensor($0.name, $0.dataType, $0.dims, $0.optional) },
            output: proto.output.map { tensor($0.name, $0.dataType, $0.dims, false) },
            sequenceBatching: isSequence ? SequenceBatching(controlInputs: proto.sequenceBatching.controlInput.map { input in
                ControlInput(name: input.name, control: input.control.map {
                    ControlInput.Control(kind: $0.kind.configName, dataType: $0.dataType == .typeInvalid ? nil : $0.dataType.configName)
                })
            }) : nil,
            decoupled: proto.modelTransactionPolicy.decoupled,
            ensembleSteps: proto.ensembleScheduling.step.isEmpty ? nil
                : proto.ensembleScheduling.step.map { EnsembleStep(modelName: $0.modelName, modelVersion: $0.modelVersion) }
        )
        if proto.hasResponseCache {
            response_cache = ResponseCache(enable: proto.responseCache.enable)
        }
        if isSequence, proto.sequenceBatching.maxSequenceIdleMicroseconds > 0 {
            sequence_batching?.max_sequence_idle_microseconds = FlexibleUInt64(proto.sequenceBatching.maxSequenceIdleMicroseconds)
        }
    }
}

extension Inference_ModelConfig {
    public init(_ config: ModelConfig) {
        self.init()
        name = config.name
        platform = config.platform ?? ""
        backend = config.backend ?? ""
        maxBatchSize = Int32(clamping: config.max_batch_size?.value ?? 0)
        input = (config.input ?? []).map { tensor in
            var input = Inference_ModelInput()
            input.name = tensor.name
            input.dataType = Inference_DataType(configName: tensor.data_type)
            input.dims = tensor.dims.map(\.value)
            input.optional = tensor.optional ?? false
            return input
        }
        output = (config.output ?? []).map { tensor in
            var output = Inference_ModelOutput()
            output.name = tensor.name
            output.dataType = Inference_DataType(configName: tensor.data_type)
            output.dims = tensor.dims.map(\.value)
            return output
        }
        if let batching = config.sequence_batching {
            var sequence = Inference_ModelSequenceBatching()
            sequence.controlInput = (batching.control_input ?? []).map { input in
                var control = Inference_ModelSequenceBatching.ControlInput()
                control.name = input.name
                control.control = input.control.compactMap { item in
                    guard let kind = Inference_ModelSequenceBatching.Control.Kind(configName: item.kind) else { return nil }
                    var entry = Inference_ModelSequenceBatching.Control()
                    entry.kind = kind
                    if let type = item.data_type { entry.dataType = Inference_DataType(configName: type) }
                    return entry
                }
                return control
            }
            sequence.maxSequenceIdleMicroseconds = batching.max_sequence_idle_microseconds?.value ?? 0
            sequenceBatching = sequence
        }
        if let steps = config.ensemble_scheduling?.step {
            var ensemble = Inference_ModelEnsembling()
            ensemble.step = steps.map { step in
                var entry = Inference_ModelEnsembling.Step()
                entry.modelName = step.model_name
                entry.modelVersion = step.model_version?.value ?? -1
                return entry
            }
            ensembleScheduling = ensemble
        }
        if config.model_transaction_policy?.decoupled == true {
            modelTransactionPolicy.decoupled = true
        }
    }
}

extension ModelMetadata {
    public init(_ proto: Inference_ModelMetadataResponse) {
        func tensor(_ item: Inference_ModelMetadataResponse.TensorMetadata) -> Tensor {
            var tensor = Tensor(name: item.name, datatype: .bool, shape: item.shape)
            tensor.datatype = item.datatype
            return tensor
        }
        self.init(name: proto.name, versions: proto.versions, platform: proto.platform,
                  inputs: proto.inputs.map(tensor), outputs: proto.outputs.map(tensor))
    }
}

extension Inference_ModelMetadataResponse {
    public init(_ metadata: ModelMetadata) {
        self.init()
        name = metadata.name
        versions = metadata.versions ?? []
        platform = metadata.platform ?? ""
        func tensor(_ item: ModelMetadata.Tensor) -> TensorMetadata {
            var tensor = TensorMetadata()
            tensor.name = item.name
            tensor.datatype = item.datatype
            tensor.shape = item.shape.map(\.value)
            return tensor
        }
        inputs = metadata.inputs.map(tensor)
        outputs = metadata.outputs.map(tensor)
    }
}

extension StatisticsResponse {
    public init(_ proto: Inference_ModelStatisticsResponse) {
        func duration(_ item: Inference_StatisticDuration) -> StatisticDuration {
            StatisticDuration(count: item.count, ns: item.ns)
        }
        self.init(modelStats: proto.modelStats.map { model in
            let stats = model.inferenceStats
            var inference = InferStatistics(
                success: duration(stats.success), fail: duration(stats.fail), queue: duration(stats.queue),
                computeInput: duration(stats.computeInput), computeInfer: duration(stats.computeInfer),
                computeOutput: duration(stats.computeOutput))
            inference.cache_hit = duration(stats.cacheHit)
            inference.cache_miss = duration(stats.cacheMiss)
            return ModelStatistics(name: model.name, version: model.version, lastInference: model.lastInference,
                                   inferenceCount: model.inferenceCount, executionCount: model.executionCount,
                                   inferenceStats: inference)
        })
    }
}

extension Inference_ModelStatisticsResponse {
    public init(_ response: StatisticsResponse) {
        self.init()
        func duration(_ item: StatisticDuration?) -> Inference_StatisticDuration {
            var proto = Inference_StatisticDuration()
            proto.count = item?.count.value ?? 0
            proto.ns = item?.ns.value ?? 0
            return proto
        }
        modelStats = response.model_stats.map { model in
            var proto = Inference_ModelStatistics()
            proto.name = model.name
            proto.version = model.version
            proto.lastInference = model.last_inference?.value ?? 0
            proto.inferenceCount = model.inference_count.value
            proto.executionCount = model.execution_count.value
            let stats = model.inference_stats
            proto.inferenceStats.success = duration(stats.success)
            proto.inferenceStats.fail = duration(stats.fail)
            proto.inferenceStats.queue = duration(stats.queue)
            proto.inferenceStats.computeInput = duration(stats.compute_input)
            proto.inferenceStats.computeInfer = duration(stats.compute_infer)
            proto.inferenceStats.computeOutput = duration(stats.compute_output)
            proto.inferenceStats.cacheHit = duration(stats.cache_hit)
            proto.inferenceStats.cacheMiss = duration(stats.cache_miss)
            return proto
        }
    }
}

extension ServerMetadata {
    public init(_ proto: Inference_ServerMetadataResponse) {
        self.init(name: proto.name, version: proto.version, extensions: proto.extensions)
    }
}

extension Inference_ServerMetadataResponse {
    public init(_ metadata: ServerMetadata) {
        self.init()
        name = metadata.name
        version = metadata.version
        extensions = metadata.extensions
    }
}
