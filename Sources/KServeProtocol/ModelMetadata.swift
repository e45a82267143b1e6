/// `GET /v2/models/NAME[/versions/V]`: the model's tensors as the protocol describes them.
public struct ModelMetadata: Sendable, Codable, Equatable {
    public struct Tensor: Sendable, Codable, Equatable {
        public var name: String
        public var datatype: String
        public var shape: [FlexibleInt64]

        public init(name: String, datatype: DataType, shape: [Int64]) {
            self.name = name
            self.datatype = datatype.rawValue
            self.shape = shape.map(FlexibleInt64.init)
        }
    }

    public var name: String
    public var versions: [String]?
    public var platform: String?
    public var inputs: [Tensor]
    public var outputs: [Tensor]

    public init(name: String, versions: [String]?, platform: String?, inputs: [Tensor], outputs: [Tensor]) {
        self.name = name
        self.versions = versions
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// `GET /v2/models/NAME[/versions/V]/config`: the subset of Triton's model configuration
/// that a load generator needs. Unknown fields are ignored.
public struct ModelConfig: Sendable, Codable, Equatable {
    public struct Tensor: Sendable, Codable, Equatable {
        public var name: String
        public var data_type: String
        public var dims: [FlexibleInt64]
        public var optional: Bool?

        public init(name: String, dataType: DataType, dims: [Int64], optional: Bool? = nil) {
            self.name = name
            self.data_type = dataType == .bytes ? "TYPE_STRING" : "TYPE_" + dataType.rawValue
            self.dims = dims.map(FlexibleInt64.init)
            self.optional = optional
        }
    }

    public struct ControlInput: Sendable, Codable, Equatable {
        public struct Control: Sendable, Codable, Equatable {
            public var kind: String
            public var data_type: String?
            public init(kind: String, dataType: String? = nil) {
                self.kind = kind
                self.data_type = dataType
            }
        }
        public var name: String
        public var control: [Control]
        public init(name: String, control: [Control]) {
            self.name = name
            self.control = control
        }
    }

    public struct SequenceBatching: Sendable, Codable, Equatable {
        public var control_input: [ControlInput]?
        public var max_sequence_idle_microseconds: FlexibleUInt64?
        public init(controlInputs: [ControlInput]) {
            self.control_input = controlInputs
        }
    }

    public struct TransactionPolicy: Sendable, Codable, Equatable {
        public var decoupled: Bool?
        public init(decoupled: Bool) { self.decoupled = decoupled }
    }

    public struct EnsembleStep: Sendable, Codable, Equatable {
        public var model_name: String
        public var model_version: FlexibleInt64?
        public init(modelName: String, modelVersion: Int64 = -1) {
            self.model_name = modelName
            self.model_version = FlexibleInt64(modelVersion)
        }
    }

    public struct EnsembleScheduling: Sendable, Codable, Equatable {
        public var step: [EnsembleStep]
        public init(steps: [EnsembleStep]) { self.step = steps }
    }

    /// `response_cache { enable: true }`: the server answers repeated requests from its cache.
    public struct ResponseCache: Sendable, Codable, Equatable {
        public var enable: Bool?
        public init(enable: Bool) { self.enable = enable }
    }

    public var name: String
    public var platform: String?
    public var backend: String?
    public var max_batch_size: FlexibleInt64?
    public var input: [Tensor]?
    public var output: [Tensor]?
    public var sequence_batching: SequenceBatching?
    public var model_transaction_policy: TransactionPolicy?
    public var ensemble_scheduling: EnsembleScheduling?
    public var response_cache: ResponseCache?

    public init(name: String, platform: String? = nil, backend: String? = nil, maxBatchSize: Int64,
                input: [Tensor], output: [Tensor], sequenceBatching: SequenceBatching? = nil,
                decoupled: Bool = false, ensembleSteps: [EnsembleStep]? = nil) {
        self.name = name
        self.platform = platform
        self.backend = backend
        self.max_batch_size = FlexibleInt64(maxBatchSize)
        self.input = input
        self.output = output
        self.sequence_batching = sequenceBatching
        self.model_transaction_policy = TransactionPolicy(decoupled: decoupled)
        self.ensemble_scheduling = ensembleSteps.map(EnsembleScheduling.init(steps:))
    }
}

/// Control kinds of `sequence_batching.control_input`, as Triton names them.
public enum SequenceControlKind {
    public static let start = "CONTROL_SEQUENCE_START"
    public static let end = "CONTROL_SEQUENCE_END"
    public static let ready = "CONTROL_SEQUENCE_READY"
    public static let correlationID = "CONTROL_SEQUENCE_CORRID"
}
