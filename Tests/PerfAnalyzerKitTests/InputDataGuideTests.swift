import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private typealias F = InputDataFixtures

@Suite("Input data: the guide's own examples")
struct InputDataGuideTests {
    @Test("explicit INT32 [4, 4] tensors: one stream of four steps, sixteen 1s each")
    func explicitTensors() throws {
        let model = F.model([F.tensor("INPUT0", .int32, [4, 4]), F.tensor("INPUT1", .int32, [4, 4])])
        let set = try F.load(InputDataGuide.explicitTensors, model)
        #expect(set.streams.count == 1)
        #expect(set.streams[0].count == 4)
        #expect(set.validation == nil)
        let ones = F.littleEndian([Int32](repeating: 1, count: 16))
        for step in set.streams[0] {
            #expect(step.tensors.map(\.name) == ["INPUT0", "INPUT1"])
            for tensor in step.tensors {
                #expect(tensor.datatype == .int32)
                #expect(tensor.shape == [4, 4])
                #expect(tensor.bytes == ones)
            }
        }
    }

    @Test("base64 tensors decode to the 14 bytes of \"base64 decoder\"", arguments: [DataType.uint8, .int8])
    func base64(datatype: DataType) throws {
        let model = F.model([F.tensor("INPUT0", datatype, [14]), F.tensor("INPUT1", datatype, [14])])
        let set = try F.load(InputDataGuide.base64, model)
        #expect(set.streams.map(\.count) == [3])
        for step in set.streams[0] {
            #expect(step.tensors.map(\.bytes) == [Array("base64 decoder".utf8), Array("base64 decoder".utf8)])
            #expect(step.tensors.map(\.shape) == [[14], [14]])
        }
    }

    @Test("base64 of a wrong size for the model names the b64 key and both sizes")
    func base64WrongSize() {
        let model = F.model([F.tensor("INPUT0", .int32, [4]), F.tensor("INPUT1", .int32, [4])])
        let message = F.failure(InputDataGuide.base64, model)
        #expect(message == "input.json: data[0].INPUT0.b64: expected 16 bytes (4 INT32 elements for shape [4]), found 14 bytes of base64 data")
    }

    @Test("three streams of lengths 4, 3 and 2 with STRING (BYTES) elements")
    func streams() throws {
        let model = F.model([F.tensor("INPUT", .bytes, [1])])
        let set = try F.load(InputDataGuide.streams, model)
        #expect(set.streams.map(\.count) == [4, 3, 2])
        #expect(set.streams[0].map { $0.tensors[0].bytes } == ["1", "2", "3", "4"].map { F.byteElements([$0]) })
        #expect(set.streams[1].allSatisfy { $0.tensors[0].bytes == F.byteElements(["1"]) && $0.tensors[0].shape == [1] })
    }

    @Test("step shapes override --shape; the step without one uses --shape")
    func shapes() throws {
        let model = F.model([F.tensor("INPUT", .int32, [-1, -1])])
        let set = try F.load(InputDataGuide.shapes, model, shapes: ["INPUT": [16, 1]])
        #expect(set.streams[0].map { $0.tensors[0].shape } == [[2, 8], [8, 2], [16, 1], [4, 4]])
        #expect(set.streams[0].allSatisfy { $0.tensors[0].bytes == F.littleEndian([Int32](repeating: 1, count: 16)) })
    }

    @Test("without --shape, the step that gives no shape is an error naming it")
    func shapesWithoutDefault() {
        let model = F.model([F.tensor("INPUT", .int32, [-1, -1])])
        let message = F.failure(InputDataGuide.shapes, model)
        #expect(message == "input.json: data[2].INPUT: input 'INPUT' has variable-sized dims [-1, -1]; give a \"shape\" next to its \"content\" or --shape INPUT:<dims>")
    }

    @Test("the abbreviated payload \"/9j/4AAQSkZ(...)\" is reported as invalid base64 at the '('")
    func base64WithShape() {
        let model = F.model([F.tensor("INPUT", .uint8, [-1])])
        let message = F.failure(InputDataGuide.base64WithShape, model)
        #expect(message == "input.json: data[0].INPUT.content.b64: invalid base64 character '(' at position 11")
    }

    @Test("the guide's shape form with a full payload: 7964 bytes")
    func base64WithShapeFull() throws {
        let payload = (0..<7964).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let json = InputDataGuide.base64WithShape.replacingOccurrences(of: "/9j/4AAQSkZ(...)", with: Data(payload).base64EncodedString())
        let model = F.model([F.tensor("INPUT", .uint8, [-1])])
        let set = try F.load(json, model)
        #expect(set.streams[0].count == 2)
        #expect(set.streams[0].allSatisfy { $0.tensors[0].shape == [7964] && $0.tensors[0].bytes == payload })
    }

    @Test("validation data: outputs aligned with data")
    func validation() throws {
        let model = F.model([F.tensor("INPUT0", .int32, [4, 4]), F.tensor("INPUT1", .int32, [4, 4])],
                            outputs: [F.tensor("OUTPUT0", .int32, [4, 4]), F.tensor("OUTPUT1", .int32, [4, 4])])
        let set = try F.load(InputDataGuide.validation, model)
        #expect(set.streams.map(\.count) == [1])
        let expected = try #require(set.validation)
        #expect(expected.map(\.count) == [1])
        #expect(expected[0][0].tensors.map(\.name) == ["OUTPUT0", "OUTPUT1"])
        #expect(expected[0][0].tensors[0].bytes == F.littleEndian([Int32](repeating: 0, count: 16)))
        #expect(expected[0][0].tensors[1].bytes == F.littleEndian([Int32](repeating: 2, count: 16)))
        #expect(expected[0][0].tensors.allSatisfy { $0.shape == [4, 4] })
    }

    @Test("the guide's examples load from files through loadJSON, and several files append streams")
    func fromFiles() throws {
        let directory = try InputDataTempDirectory()
        let first = try directory.write("streams.json", text: InputDataGuide.streams)
        let second = try directory.write("more.json", text: #"{"data": [{"INPUT": ["x"]}, {"INPUT": ["y"]}]}"#)
        let model = F.model([F.tensor("INPUT", .bytes, [1])])
        let set = try InputDataLoader.loadJSON(paths: [first, second, first], model: model, shapes: [:])
        #expect(set.streams.map(\.count) == [4, 3, 2, 2, 4, 3, 2])
        #expect(set.streams[3][1].tensors[0].bytes == F.byteElements(["y"]))
    }
}
