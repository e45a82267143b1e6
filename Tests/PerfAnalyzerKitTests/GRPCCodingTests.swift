import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import NIOCore
import SwiftProtobuf
import Testing
@testable import PerfAnalyzerKit

@Suite("gRPC message coding")
struct GRPCCodingTests {
    private func scan(_ message: Inference_ModelStreamInferResponse) throws -> GRPCResponseScanner.Summary {
        let bytes: [UInt8] = try message.serializedBytes()
        return try bytes.withUnsafeBytes { try GRPCResponseScanner.scanStreamResponse($0) }
    }

    private func response(outputs: Int, final: Bool?) -> Inference_ModelStreamInferResponse {
        var infer = Inference_ModelInferResponse()
        infer.modelName = "repeat_decoupled"
        infer.id = "7"
        for index in 0..<outputs {
            var output = Inference_ModelInferResponse.InferOutputTensor()
            output.name = "OUT\(index)"
            output.datatype = "INT32"
            output.shape = [1]
            infer.outputs.append(output)
            infer.rawOutputContents.append(Data([1, 0, 0, 0]))
        }
        var other = Inference_InferParameter()
        other.stringParam = "x"
        infer.parameters["unrelated"] = other
        if let final {
            var flag = Inference_InferParameter()
            flag.boolParam = final
            infer.parameters[GRPCResponseScanner.finalResponseParameter] = flag
        }
        var message = Inference_ModelStreamInferResponse()
        message.inferResponse = infer
        return message
    }

    @Test("the scanner reads outputs, the final marker and errors without decoding")
    func scanner() throws {
        #expect(try scan(response(outputs: 2, final: false)) == .init(errorMessage: nil, hasOutputs: true, isFinal: false))
        #expect(try scan(response(outputs: 0, final: true)) == .init(errorMessage: nil, hasOutputs: false, isFinal: true))
        #expect(try scan(response(outputs: 1, final: nil)) == .init(errorMessage: nil, hasOutputs: true, isFinal: nil))
        var failed = Inference_ModelStreamInferResponse()
        failed.errorMessage = "in[0] is bad"
        #expect(try scan(failed).errorMessage == "in[0] is bad")
    }

    @Test("truncated bytes are reported, never read past")
    func truncated() throws {
        let bytes: [UInt8] = try response(outputs: 2, final: true).serializedBytes()
        for length in [1, 5, bytes.count / 2, bytes.count - 1] {
            #expect(throws: GRPCResponseScanner.Malformed.self) {
                try Array(bytes.prefix(length)).withUnsafeBytes { _ = try GRPCResponseScanner.scanStreamResponse($0) }
            }
        }
    }

    @Test("the prepared request is sent as built; a stream request gains its id")
    func serializer() throws {
        let model = ModelDescription(name: "add_sub", version: "1", platform: "", maxBatchSize: 8,
                                     inputs: [.init(name: "INPUT0", datatype: .int32, shape: [2])],
                                     outputs: [.init(name: "OUTPUT0", datatype: .int32, shape: [2])])
        let step = DataStep(tensors: [.init(name: "INPUT0", datatype: .int32, shape: [2], bytes: [1, 0, 0, 0, 2, 0, 0, 0])])
        let prepared = try GRPCInferRequestBuilder(model: model, requestsFinalResponseMarker: true).build(steps: [step, step])
        #expect(prepared.batchSize == 2)
        let serializer = PreparedRequestSerializer()
        let plain: [UInt8] = try serializer.serialize(OutgoingInferRequest(body: prepared.bytes))
        let decoded = try Inference_ModelInferRequest(serializedBytes: plain)
        #expect(decoded.modelName == "add_sub")
        #expect(decoded.modelVersion == "1")
        #expect(decoded.id == "")
        #expect(decoded.inputs.map(\.shape) == [[2, 2]])
        #expect(decoded.inputs.map(\.datatype) == ["INT32"])
        #expect(decoded.rawInputContents == [Data([1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0])])
        #expect(decoded.outputs.map(\.name) == ["OUTPUT0"])
        #expect(decoded.parameters[GRPCResponseScanner.enableFinalResponseParameter]?.boolParam == true)
        let withID: [UInt8] = try serializer.serialize(OutgoingInferRequest(body: prepared.bytes, id: 1234567))
        #expect(try Inference_ModelInferRequest(serializedBytes: withID).id == "1234567")
    }

    @Test("gRPC outputs are validated by name from the raw contents")
    func validation() {
        var response = Inference_ModelInferResponse()
        for name in ["OUTPUT1", "OUTPUT0"] {
            var output = Inference_ModelInferResponse.InferOutputTensor()
            output.name = name
            response.outputs.append(output)
        }
        response.rawOutputContents = [Data([9, 0, 0, 0]), Data([4, 0, 0, 0])]
        let good = ExpectedOutputs(steps: [0], tensors: [.init(name: "OUTPUT0", datatype: .int32, shape: [1], bytes: [4, 0, 0, 0])])
        #expect(ResponseValidator.mismatch(response: response, expected: good) == nil)
        let bad = ExpectedOutputs(steps: [3], tensors: [.init(name: "OUTPUT1", datatype: .int32, shape: [1], bytes: [8, 0, 0, 0])])
        #expect(ResponseValidator.mismatch(response: response, expected: bad) == "validation failed for output 'OUTPUT1', data step 3, index 0: expected 8, received 9")
    }

    @Test("model config, metadata and statistics survive the trip through the gRPC messages")
    func conversions() {
        let config = ModelConfig(name: "seq", backend: "python", maxBatchSize: 0,
                                 input: [.init(name: "IN", dataType: .bytes, dims: [-1], optional: true)],
                                 output: [.init(name: "OUT", dataType: .fp32, dims: [2, 3])],
                                 sequenceBatching: .init(controlInputs: [.init(name: "START", control: [.init(kind: SequenceControlKind.start, dataType: "TYPE_INT32")])]),
                                 decoupled: true)
        let back = ModelConfig(Inference_ModelConfig(config))
        #expect(back.input == config.input)
        #expect(back.output == config.output)
        #expect(back.sequence_batching == config.sequence_batching)
        #expect(back.model_transaction_policy?.decoupled == true)
        #expect(back.max_batch_size == config.max_batch_size)
        let metadata = ModelMetadata(name: "m", versions: ["1"], platform: "p", inputs: [.init(name: "A", datatype: .int8, shape: [-1, 2])], outputs: [])
        #expect(ModelMetadata(Inference_ModelMetadataResponse(metadata)) == metadata)
        let stats = StatisticsResponse(modelStats: [ModelStatistics(name: "m", version: "1", lastInference: 5, inferenceCount: 9, executionCount: 3,
                                                                    inferenceStats: InferStatistics(success: .init(count: 3, ns: 300)))])
        #expect(StatisticsResponse(Inference_ModelStatisticsResponse(stats)) == stats)
    }
}

@Suite("gRPC answers checked for outputs as their frames arrive")
struct GRPCOutputsCheckTests {
    private static func framed(_ message: Inference_ModelInferResponse) throws -> [UInt8] {
        let body: [UInt8] = try message.serializedBytes()
        return [0] + withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }

    private static func problem(_ bytes: [UInt8], chunk: Int) -> String? {
        var check = GRPCOutputsCheck()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            bytes[offset..<end].withUnsafeBytes { check.scan($0) }
            offset = end
        }
        return check.problem
    }

    @Test("a response with outputs passes however its frames split", arguments: [1, 2, 5, 7, 4096])
    func withOutputs(chunk: Int) throws {
        var response = Inference_ModelInferResponse()
        response.modelName = String(repeating: "m", count: 300)
        response.modelVersion = "1"
        response.id = "42"
        var output = Inference_ModelInferResponse.InferOutputTensor()
        output.name = "OUTPUT0"
        response.outputs = [output]
        response.rawOutputContents = [Data(count: 64)]
        #expect(Self.problem(try Self.framed(response), chunk: chunk) == nil)
    }

    @Test("no outputs, no message, or bytes that are not protobuf are named", arguments: [1, 3, 4096])
    func withoutOutputs(chunk: Int) throws {
        var response = Inference_ModelInferResponse()
        response.modelName = "identity_fp32"
        response.id = "7"
        #expect(Self.problem(try Self.framed(response), chunk: chunk) == "the server's ModelInferResponse has no outputs")
        #expect(Self.problem([], chunk: chunk) == "the server's ModelInferResponse has no outputs")
        #expect(Self.problem([0, 0, 0, 0, 3, 0x0F, 0xFF, 0xFF], chunk: chunk) == "the server's answer is not a valid ModelInferResponse")
    }
}
