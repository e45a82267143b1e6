import Foundation
import KServeProtocol
import NIOCore

/// Turns the data steps of one request into its wire bytes, once, before the load starts.
public protocol InferRequestEncoding: Sendable {
    /// One request made of `steps` stacked along the batch dimension (one step per batch entry);
    /// with a binding, its tensors point at shared-memory regions instead of travelling in it.
    func build(steps: [DataStep], sharedMemory: SharedMemoryBinding?) throws -> PreparedRequest
}

extension InferRequestEncoding {
    public func build(steps: [DataStep]) throws -> PreparedRequest {
        try build(steps: steps, sharedMemory: nil)
    }
}

/// One input of a request: the steps' tensors stacked along the batch dimension.
struct StackedInput {
    var name: String
    var datatype: DataType
    var shape: [Int64]
    var bytes: [UInt8]

    /// Each input of `steps`, stacked; the shape gains a leading batch dimension when `batched`.
    static func stack(_ steps: [DataStep], batched: Bool) -> [StackedInput] {
        steps[0].tensors.enumerated().map { index, first in
            var stacked: [UInt8] = []
            stacked.reserveCapacity(first.bytes.count * steps.count)
            for step in steps { stacked.append(contentsOf: step.tensors[index].bytes) }
            let shape = batched ? [Int64(steps.count)] + first.shape : first.shape
            return StackedInput(name: first.name, datatype: first.datatype, shape: shape, bytes: stacked)
        }
    }
}

/// Builds HTTP/1.1 inference requests (JSON header plus binary tensors, or all JSON).
/// Runs before the load starts so the send path only writes prepared buffers.
public struct InferRequestBuilder: FramedRequestEncoding {
    public var model: ModelDescription
    public var host: String
    public var headers: [HeaderField]
    public var inputFormat: PerfAnalyzerOptions.TensorFormat
    public var outputFormat: PerfAnalyzerOptions.TensorFormat
    /// `--request-parameter`s, sent in the request's `parameters` object.
    public var parameters: [RequestParameter]

    /// Put before `/v2/...` (`-u host:port/prefix`).
    public var pathPrefix: String

    public init(model: ModelDescription, host: String, headers: [HeaderField],
                inputFormat: PerfAnalyzerOptions.TensorFormat, outputFormat: PerfAnalyzerOptions.TensorFormat,
                parameters: [RequestParameter] = [], pathPrefix: String = "") {
        self.model = model
        self.pathPrefix = pathPrefix
        self.host = host
        self.headers = headers
        self.inputFormat = inputFormat
        self.outputFormat = outputFormat
        self.parameters = parameters
    }

    public var path: String {
        let base = "\(pathPrefix)/v2/models/\(model.name)"
        return model.version.isEmpty ? base + "/infer" : base + "/versions/\(model.version)/infer"
    }

    public func build(steps: [DataStep], sharedMemory: SharedMemoryBinding?) throws -> PreparedRequest {
        precondition(!steps.isEmpty)
        let batched = model.supportsBatching
        var inputs: [InferRequestHeader.Input] = []
        var binary: [UInt8] = []
        for input in StackedInput.stack(steps, batched: batched) {
            if let slice = sharedMemory?.inputs[input.name] {
                inputs.append(.init(name: input.name, shape: input.shape, datatype: input.datatype,
                                    parameters: Self.parameters(slice)))
                continue
            }
            switch inputFormat {
            case .binary:
                inputs.append(.init(name: input.name, shape: input.shape, datatype: input.datatype,
                                    parameters: ["binary_data_size": .int(Int64(input.bytes.count))]))
                binary.append(contentsOf: input.bytes)
            case .json:
                let values = try TensorCodec.json(fromBinary: input.bytes, datatype: input.datatype)
                inputs.append(.init(name: input.name, shape: input.shape, datatype: input.datatype, data: .array(values)))
            }
        }
        let encoded = try encode(inputs: inputs, binaryCount: binary.count, sharedMemory: sharedMemory)
        var bytes = ByteBuffer()
        encoded.template.writeHead(nil, binaryCount: binary.count, into: &bytes)
        bytes.writeBytes(binary)
        return request(bytes: bytes, encoded, stepCount: steps.count)
    }

    /// Binary tensors without shared memory: one frame per layout, the head and JSON header
    /// before the tensors' bytes.
    func frame(for inputs: [RequestFrame.Input], stepCount: Int) throws -> RequestFrame? {
        guard inputFormat == .binary else { return nil }
        let batched = model.supportsBatching
        let header = inputs.map { input in
            InferRequestHeader.Input(name: input.name, shape: batched ? [Int64(stepCount)] + input.shape : input.shape,
                                     datatype: input.datatype, parameters: ["binary_data_size": .int(Int64(input.byteCount))])
        }
        let binaryCount = inputs.reduce(0) { $0 + $1.byteCount }
        let encoded = try encode(inputs: header, binaryCount: binaryCount, sharedMemory: nil)
        var head = ByteBuffer()
        encoded.template.writeHead(nil, binaryCount: binaryCount, into: &head)
        return RequestFrame(pieces: [Array(head.readableBytesView)] + Array(repeating: [], count: inputs.count),
                            inputs: inputs, prototype: request(bytes: ByteBuffer(), encoded, stepCount: stepCount))
    }

    /// The JSON header of a request, and the template its bytes are written from.
    private func encode(inputs: [InferRequestHeader.Input], binaryCount: Int,
                        sharedMemory: SharedMemoryBinding?) throws -> (json: Data, template: HTTPRequestTemplate) {
        let wantsBinaryOutput = outputFormat == .binary
        let outputs = model.outputs.map { output in
            if let slice = sharedMemory?.outputs[output.name] {
                return InferRequestHeader.RequestedOutput(name: output.name, parameters: Self.parameters(slice))
            }
            return InferRequestHeader.RequestedOutput(name: output.name, parameters: ["binary_data": .bool(wantsBinaryOutput)])
        }
        let header = InferRequestHeader(inputs: inputs, outputs: outputs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = try encoder.encode(header)

        var headStart = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: keep-alive\r\n"
        headStart += binaryCount == 0 ? "Content-Type: application/json\r\n" : "Content-Type: application/octet-stream\r\n"
        var headEnd = ""
        for field in headers { headEnd += "\(field.name): \(field.value)\r\n" }
        headEnd += "\r\n"
        let template = HTTPRequestTemplate(headStart: headStart, headEnd: headEnd, jsonAfterBrace: Array(json.dropFirst()),
                                           binaryCount: binaryCount, requestParameters: parameters.jsonMembers)
        return (json, template)
    }

    /// The request of `bytes`; only sequence models keep the template, to add their parameters.
    private func request(bytes: ByteBuffer, _ encoded: (json: Data, template: HTTPRequestTemplate), stepCount: Int) -> PreparedRequest {
        PreparedRequest(bytes: bytes, batchSize: model.supportsBatching ? stepCount : 1,
                        jsonHeader: String(decoding: encoded.json, as: UTF8.self), template: model.isSequence ? encoded.template : nil)
    }

    private static func parameters(_ slice: SharedMemoryBinding.Slice) -> [String: JSONValue] {
        [SharedMemoryParameter.region: .string(slice.region),
         SharedMemoryParameter.byteSize: .int(Int64(slice.byteSize))]
    }
}
