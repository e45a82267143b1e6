import Foundation
import KServeProtocol
import KServeGRPC
import NIOCore
import SwiftProtobuf

/// Builds serialized `ModelInferRequest`s with the tensors in `raw_input_contents`, the way
/// Triton's own client sends them. Runs before the load starts: the send path copies bytes.
struct GRPCInferRequestBuilder: InferRequestEncoding {
    var model: ModelDescription
    /// Decoupled models over a stream: ask the server to mark the last response of each request.
    var requestsFinalResponseMarker: Bool
    /// `--request-parameter`s, in the request's `parameters` map.
    var parameters: [RequestParameter] = []

    func build(steps: [DataStep], sharedMemory: SharedMemoryBinding?) throws -> PreparedRequest {
        precondition(!steps.isEmpty)
        var request = Inference_ModelInferRequest()
        request.modelName = model.name
        request.modelVersion = model.version
        for input in StackedInput.stack(steps, batched: model.supportsBatching) {
            var tensor = Inference_ModelInferRequest.InferInputTensor()
            tensor.name = input.name
            tensor.datatype = input.datatype.rawValue
            tensor.shape = input.shape
            if let slice = sharedMemory?.inputs[input.name] {
                tensor.parameters = Self.parameters(slice)
                request.inputs.append(tensor)
            } else {
                request.inputs.append(tensor)
                request.rawInputContents.append(Data(input.bytes))
            }
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
        let serialized: [UInt8] = try request.serializedBytes()
        var summary = request
        summary.rawInputContents = []
        return PreparedRequest(bytes: ByteBuffer(bytes: serialized),
                               batchSize: model.supportsBatching ? steps.count : 1,
                               jsonHeader: summary.textFormatString())
    }

    private static func parameters(_ slice: SharedMemoryBinding.Slice) -> [String: Inference_InferParameter] {
        var region = Inference_InferParameter()
        region.stringParam = slice.region
        var size = Inference_InferParameter()
        size.int64Param = Int64(slice.byteSize)
        return [SharedMemoryParameter.region: region, SharedMemoryParameter.byteSize: size]
    }
}
