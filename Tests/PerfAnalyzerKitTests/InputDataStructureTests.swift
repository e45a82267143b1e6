import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private typealias F = InputDataFixtures

@Suite("Input data: steps, streams, files, shapes and validation")
struct InputDataStructureTests {
    private let twoInputs = F.model([F.tensor("A", .int32, [2]), F.tensor("B", .fp32, [1])],
                                    outputs: [F.tensor("OUT", .int32, [2]), F.tensor("FLEX", .fp32, [-1, -1])])

    @Test("tensors come out in model input order whatever the key order")
    func keyOrder() throws {
        let set = try F.load(#"{"data": [{"B": [0.5], "A": [1, 2]}]}"#, twoInputs)
        #expect(set.streams[0][0].tensors.map(\.name) == ["A", "B"])
        #expect(set.streams[0][0].tensors[1].bytes == F.littleEndian([Float(0.5).bitPattern]))
    }

    @Test("optional inputs may be left out, and their tensor is then absent")
    func optionalInputs() throws {
        let model = F.model([F.tensor("A", .int32, [1]), F.tensor("OPT", .int32, [1], optional: true), F.tensor("C", .int32, [1])])
        let set = try F.load(#"{"data": [{"C": [3], "A": [1]}, {"A": [1], "OPT": [2], "C": [3]}]}"#, model)
        #expect(set.streams[0][0].tensors.map(\.name) == ["A", "C"])
        #expect(set.streams[0][1].tensors.map(\.name) == ["A", "OPT", "C"])
        let allOptional = F.model([F.tensor("OPT", .int32, [1], optional: true)])
        #expect(try F.load(#"{"data": [{}]}"#, allOptional).streams[0][0].tensors.isEmpty)
    }

    @Test("arrays of steps are streams; validation streams align with them")
    func validationStreams() throws {
        let json = #"""
        {"validation_data": [[{"OUT": [1, 2]}], [{"FLEX": [1.5, 2.5, 3.5]}, {"OUT": {"b64": "AQAAAAIAAAA="}, "FLEX": {"content": [1, 2], "shape": [2, 1]}}]],
         "data": [[{"A": [1, 2], "B": [1]}], [{"A": [3, 4], "B": [2]}, {"A": [5, 6], "B": [3]}]]}
        """#
        let set = try F.load(json, twoInputs)
        #expect(set.streams.map(\.count) == [1, 2])
        let validation = try #require(set.validation)
        #expect(validation.map(\.count) == [1, 2])
        #expect(validation[0][0].tensors.map(\.name) == ["OUT"])
        #expect(validation[1][0].tensors.map(\.name) == ["FLEX"])
        // A variable-sized output without a "shape" gets the flat shape [elementCount].
        #expect(validation[1][0].tensors[0].shape == [3])
        #expect(validation[1][1].tensors.map(\.shape) == [[2], [2, 1]])
        #expect(validation[1][1].tensors[0].bytes == F.littleEndian([Int32(1), 2]))
    }

    @Test("a variable-sized output given as base64 without a shape is flat too")
    func flatBase64Output() throws {
        let json = #"{"data": [{"A": [1, 2], "B": [1]}], "validation_data": [{"FLEX": {"b64": "AACAPwAAAEA="}}]}"#
        let set = try F.load(json, twoInputs)
        #expect(set.validation?[0][0].tensors[0].shape == [2])
        #expect(set.validation?[0][0].tensors[0].bytes == F.littleEndian([Float(1).bitPattern, Float(2).bitPattern]))
    }

    @Test("several files append streams; files without validation data get empty validation steps")
    func severalFiles() throws {
        let directory = try InputDataTempDirectory()
        let plain = try directory.write("plain.json", text: #"{"data": [{"A": [1, 2], "B": [1]}, {"A": [3, 4], "B": [2]}]}"#)
        let streams = try directory.write("streams.json", text: #"{"data": [[{"A": [5, 6], "B": [3]}], [{"A": [7, 8], "B": [4]}]]}"#)
        let checked = try directory.write("checked.json", text: #"{"data": [{"A": [9, 9], "B": [5]}], "validation_data": [{"OUT": [0, 0]}]}"#)

        let withoutValidation = try InputDataLoader.loadJSON(paths: [plain, streams], model: twoInputs, shapes: [:])
        #expect(withoutValidation.streams.map(\.count) == [2, 1, 1])
        #expect(withoutValidation.validation == nil)
        #expect(withoutValidation.streams[2][0].tensors[0].bytes == F.littleEndian([Int32(7), 8]))

        let mixed = try InputDataLoader.loadJSON(paths: [plain, checked, streams], model: twoInputs, shapes: [:])
        #expect(mixed.streams.map(\.count) == [2, 1, 1, 1])
        let validation = try #require(mixed.validation)
        #expect(validation.map(\.count) == [2, 1, 1, 1])
        #expect(validation[0].allSatisfy { $0.tensors.isEmpty })
        #expect(validation[1][0].tensors.map(\.name) == ["OUT"])
    }

    @Test("--shape applies to inputs without a step shape, even over fixed model dims; a step shape beats both")
    func shapeOverrides() throws {
        let model = F.model([F.tensor("V", .uint8, [-1, 2]), F.tensor("F", .uint8, [4])])
        let json = #"{"data": [{"V": [1, 2, 3, 4], "F": [1, 2]}, {"V": {"content": [1, 2], "shape": [1, 2]}, "F": [1, 2]}]}"#
        let set = try F.load(json, model, shapes: ["V": [2, 2], "F": [2]])
        #expect(set.streams[0].map { $0.tensors.map(\.shape) } == [[[2, 2], [2]], [[1, 2], [2]]])
    }

    @Test("a \"model\" key in a step is not a tensor and is skipped, as perf_analyzer does")
    func modelKey() throws {
        let set = try F.load(#"{"data": [{"model": "other", "A": [1, 2], "B": [1]}]}"#, twoInputs)
        #expect(set.streams[0][0].tensors.count == 2)
    }

    @Test("b64 next to a shape (without content) is accepted, as perf_analyzer does")
    func base64BesideShape() throws {
        let model = F.model([F.tensor("V", .uint8, [-1])])
        let set = try F.load(#"{"data": [{"V": {"shape": [3], "b64": "AAEC"}}]}"#, model)
        #expect(set.streams[0][0].tensors[0].shape == [3])
    }
}
