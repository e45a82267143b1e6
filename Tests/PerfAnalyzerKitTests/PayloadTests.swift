import Foundation
import KServeProtocol
import NIOCore
import Testing
@testable import PerfAnalyzerKit

private let fp32Model = ModelDescription(
    name: "identity_fp32", version: "", platform: "python", maxBatchSize: 8,
    inputs: [.init(name: "INPUT0", datatype: .fp32, shape: [16])],
    outputs: [.init(name: "OUTPUT0", datatype: .fp32, shape: [16])])

@Suite("Model description and payloads")
struct PayloadTests {
    @Test("config dims leave out the batch dimension; controls and ensembles are found")
    func describe() throws {
        let metadata = ModelMetadata(name: "seq", versions: ["1"], platform: "ensemble",
                                     inputs: [.init(name: "INPUT", datatype: .int32, shape: [-1, 1])],
                                     outputs: [.init(name: "OUTPUT", datatype: .int32, shape: [-1, 1])])
        let config = ModelConfig(
            name: "seq", platform: "ensemble", maxBatchSize: 4,
            input: [.init(name: "INPUT", dataType: .int32, dims: [1])],
            output: [.init(name: "OUTPUT", dataType: .int32, dims: [1])],
            sequenceBatching: .init(controlInputs: [
                .init(name: "START", control: [.init(kind: SequenceControlKind.start)]),
                .init(name: "CORRID", control: [.init(kind: SequenceControlKind.correlationID)]),
            ]),
            ensembleSteps: [.init(modelName: "a"), .init(modelName: "b", modelVersion: 3)])
        let model = try ModelDescription.make(metadata: metadata, config: config, requestedVersion: "")
        #expect(model.inputs == [.init(name: "INPUT", datatype: .int32, shape: [1])])
        #expect(model.sequenceControls?.startInput == "START")
        #expect(model.sequenceControls?.correlationIDInput == "CORRID")
        #expect(model.composingModels == [.init(name: "a", version: ""), .init(name: "b", version: "3")])
        #expect(throws: ModelDescriptionError.self) { try model.checkBatchSize(5) }
        try model.checkBatchSize(4)
    }

    @Test("batching checks name the flag and the limit")
    func batchChecks() {
        var model = fp32Model
        model.maxBatchSize = 0
        #expect(throws: ModelDescriptionError.self) { try model.checkBatchSize(2) }
        do {
            try fp32Model.checkBatchSize(9)
        } catch {
            #expect(error.description.contains("-b 9"))
            #expect(error.description.contains("at most 8"))
        }
    }

    @Test("binary request: header lengths, shape with batch, data stacked")
    func binaryRequest() throws {
        let step = try GeneratedInputData.makeStep(model: fp32Model, source: .random, shapes: [:], stringLength: 0)
        #expect(step.tensors[0].bytes.count == 64)
        let builder = InferRequestBuilder(model: fp32Model, host: "h:1", headers: [HeaderField(name: "X-A", value: "1")],
                                          inputFormat: .binary, outputFormat: .binary)
        let request = try builder.build(steps: [step, step, step])
        #expect(request.batchSize == 3)
        let text = String(buffer: request.bytes)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts[0]
        #expect(head.hasPrefix("POST /v2/models/identity_fp32/infer HTTP/1.1\r\n"))
        #expect(head.contains("\r\nX-A: 1"))
        let headerLength = Int(head.components(separatedBy: "Inference-Header-Content-Length: ")[1].prefix { $0.isNumber })!
        let contentLength = Int(head.components(separatedBy: "Content-Length: ").last!.prefix { $0.isNumber })!
        var body = request.bytes
        body.moveReaderIndex(forwardBy: head.utf8.count + 4)
        #expect(body.readableBytes == contentLength)
        let decoded = try InferBody.decodeRequest(body, headerLength: headerLength)
        #expect(decoded.header.inputs[0].shape == [3, 16])
        #expect(decoded.header.outputs?.first?.parameters?["binary_data"] == .bool(true))
        let raw = decoded.binaryInputs["INPUT0"].map { Array($0.readableBytesView) }
        #expect(raw == step.tensors[0].bytes + step.tensors[0].bytes + step.tensors[0].bytes)
    }

    @Test("JSON request carries data arrays and no binary header")
    func jsonRequest() throws {
        let step = try GeneratedInputData.makeStep(model: fp32Model, source: .zero, shapes: [:], stringLength: 0)
        let builder = InferRequestBuilder(model: fp32Model, host: "h:1", headers: [], inputFormat: .json, outputFormat: .json)
        let request = try builder.build(steps: [step])
        let text = String(buffer: request.bytes)
        #expect(!text.contains("Inference-Header-Content-Length"))
        let body = text.components(separatedBy: "\r\n\r\n")[1]
        let header = try JSONDecoder().decode(InferRequestHeader.self, from: Data(body.utf8))
        #expect(header.inputs[0].data.map(TensorCodec.flatten)?.count == 16)
        #expect(header.outputs?.first?.parameters?["binary_data"] == .bool(false))
    }

    @Test("a variable-sized input needs --shape")
    func variableShapes() throws {
        let model = ModelDescription(name: "dyn", version: "", platform: "", maxBatchSize: 0,
                                     inputs: [.init(name: "INPUT0", datatype: .int32, shape: [-1, -1])], outputs: [])
        #expect(throws: GeneratedInputData.MissingShape.self) {
            _ = try GeneratedInputData.makeStep(model: model, source: .random, shapes: [:], stringLength: 4)
        }
        let step = try GeneratedInputData.makeStep(model: model, source: .random, shapes: ["INPUT0": [2, 3]], stringLength: 4)
        #expect(step.tensors[0].bytes.count == 24)
    }

    @Test("random strings have the requested length and are length-prefixed")
    func strings() throws {
        let model = ModelDescription(name: "s", version: "", platform: "", maxBatchSize: 0,
                                     inputs: [.init(name: "INPUT0", datatype: .bytes, shape: [3])], outputs: [])
        let step = try GeneratedInputData.makeStep(model: model, source: .random, shapes: [:], stringLength: 5)
        let elements = try TensorCodec.splitByteElements(step.tensors[0].bytes)
        #expect(elements.count == 3)
        #expect(elements.allSatisfy { $0.count == 5 })
    }
}
