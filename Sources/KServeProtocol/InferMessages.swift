/// JSON header of a KServe v2 HTTP inference request. With the binary tensor data
/// extension, tensors whose `parameters.binary_data_size` is set follow the header
/// as raw bytes, in the order they are listed.
public struct InferRequestHeader: Sendable, Codable, Equatable {
    public struct Input: Sendable, Codable, Equatable {
        public var name: String
        public var shape: [Int64]
        public var datatype: String
        public var parameters: [String: JSONValue]?
        public var data: JSONValue?

        public init(name: String, shape: [Int64], datatype: DataType, parameters: [String: JSONValue]? = nil, data: JSONValue? = nil) {
            self.name = name
            self.shape = shape
            self.datatype = datatype.rawValue
            self.parameters = parameters
            self.data = data
        }

        public var binaryDataSize: Int? { parameters?["binary_data_size"]?.int64Value.map(Int.init) }
    }

    public struct RequestedOutput: Sendable, Codable, Equatable {
        public var name: String
        public var parameters: [String: JSONValue]?
        public init(name: String, parameters: [String: JSONValue]? = nil) {
            self.name = name
            self.parameters = parameters
        }
    }

    public var id: String?
    public var parameters: [String: JSONValue]?
    public var inputs: [Input]
    public var outputs: [RequestedOutput]?

    public init(id: String? = nil, parameters: [String: JSONValue]? = nil, inputs: [Input], outputs: [RequestedOutput]? = nil) {
        self.id = id
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// JSON header of a KServe v2 HTTP inference response.
public struct InferResponseHeader: Sendable, Codable, Equatable {
    public struct Output: Sendable, Codable, Equatable {
        public var name: String
        public var shape: [Int64]
        public var datatype: String
        public var parameters: [String: JSONValue]?
        public var data: JSONValue?

        public init(name: String, shape: [Int64], datatype: DataType, parameters: [String: JSONValue]? = nil, data: JSONValue? = nil) {
            self.name = name
            self.shape = shape
            self.datatype = datatype.rawValue
            self.parameters = parameters
            self.data = data
        }

        public var binaryDataSize: Int? { parameters?["binary_data_size"]?.int64Value.map(Int.init) }
    }

    public var model_name: String
    public var model_version: String?
    public var id: String?
    public var parameters: [String: JSONValue]?
    public var outputs: [Output]

    public init(modelName: String, modelVersion: String?, id: String?, parameters: [String: JSONValue]? = nil, outputs: [Output]) {
        self.model_name = modelName
        self.model_version = modelVersion
        self.id = id
        self.parameters = parameters
        self.outputs = outputs
    }
}

/// Names of the HTTP headers of the binary tensor data extension.
public enum BinaryTensorHeader {
    /// Length of the JSON header at the start of a body that carries binary tensors.
    public static let headerContentLength = "Inference-Header-Content-Length"
}
