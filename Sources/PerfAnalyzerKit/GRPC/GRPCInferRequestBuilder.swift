import Foundation
import KServeProtocol
import KServeGRPC
import NIOCore
import SwiftProtobuf

/// Builds serialized `ModelInferRequest`s with the tensors in `raw_input_contents`, the way
/// Triton's own client sends them. Runs before the load starts: the send path copies bytes.
struct GRPCInferRequestBuilder: FramedRequestEncoding {
    var model: ModelDescription
    /// Decoupled models over a stream: ask the server to mark the last response of each request.
    var requestsFinalResponseMarker: Bool
    /// `--request-parameter`s, in the request's `parameters` map.
    var parameters: [RequestParameter] = []

    func build(steps: [DataStep], sharedMemory: SharedMemoryBinding?) throws -> PreparedRequest {
        precondition(!steps.isEmpty)
        let stacked = StackedInput.stack(steps, batched: model.supportsBatching)
        var request = message(inputs: stacked.map { ($0.name, $0.datatype, $0.shape) }, sharedMemory: sharedMemory)
        let summary = request
        for input in stacked where sharedMemory?.inputs[input.name] == nil {
            request.rawInputContents.append(Data(input.bytes))
        }
        let serialized: [UInt8] = try request.serializedBytes()
        return PreparedRequest(bytes: ByteBuffer(bytes: serialized),
                               batchSize: model.supportsBatching ? steps.count : 1,
                               jsonHeader: summary.textFormatString())
    }

    /// Tensors in `raw_input_contents` are the message's last field (protobuf writes fields in
    /// number order, and it is number 7), so a request is the message without them, then per
    /// input the field's tag, the length and the bytes.
    func frame(for inputs: [RequestFrame.Input], stepCount: Int) throws -> RequestFrame? {
        let batched = model.supportsBatching
        let summary = message(inputs: inputs.map { ($0.name, $0.datatype, batched ? [Int64(stepCount)] + $0.shape : $0.shape) },
                              sharedMemory: nil)
        var pieces: [[UInt8]] = []
        var before: [UInt8] = try summary.serializedBytes()
        for input in inputs {
            before += [Self.rawInputContentsTag] + SequenceParameters.varint(UInt64(input.byteCount))
            pieces.append(before)
            before = []
        }
        pieces.append(before)
        let prototype = PreparedRequest(bytes: ByteBuffer(), batchSize: batched ? stepCount : 1, jsonHeader: summary.textFormatString())
        return RequestFrame(pieces: pieces, inputs: inputs, prototype: prototype)
    }

    /// `raw_input_contents` (field 7), length-delimited (wire type 2).
    private static let rawInputContentsTag: UInt8 = 7 << 3 | 2

    /// The request without its tensors' bytes.
    private func message(inputs: [(name: String, datatype: DataType, shape: [Int64])],
                         sharedMemory: SharedMemoryBinding?) -> Inference_ModelInferRequest {
        var request = Inference_ModelInferRequest()
        request.modelName = model.name
        request.modelVersion = model.version
        for input in inputs {
            var tensor = Inference_ModelInferRequest.InferInputTensor()
            tensor.name = input.name
            tensor.datatype = input.datatype.rawValue
            tensor.shape = input.shape
            if let slice = sharedMemory?.inputs[input.name] { tensor.parameters = Self.parameters(slice) }
            request.inputs.append(tensor)
        }
        request.outputs = model.outputs.map { output in
            var requested = Inference_ModelInferRequest.InferRequestedOutputTensor()
            requested.name = output.name
            if let slice = sharedMemory?.outputs[output.name] { requested.parameters = Self.parameters(slice) }
            return requested
        }
        if requestsFinalResponseMarker {
            var flag = Inference_InferParameter()
            flag.boolParam = true
            request.parameters[GRPCResponseScanner.enableFinalResponseParameter] = flag
        }
        for parameter in parameters {
            var value = Inference_InferParameter()
            switch parameter.value {
            case .bool(let flag): value.boolParam = flag
            case .int(let number): value.int64Param = number
            case .string(let text): value.stringParam = text
            }
            request.parameters[parameter.name] = value
        }
        return request
    }

    private static func parameters(_ slice: SharedMemoryBinding.Slice) -> [String: Inference_InferParameter] {
        var region = Inference_InferParameter()
        region.stringParam = slice.region
        var size = Inference_InferParameter()
        size.int64Param = Int64(slice.byteSize)
        return [SharedMemoryParameter.region: region, SharedMemoryParameter.byteSize: size]
    }
}
