import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private typealias F = InputDataFixtures

@Suite("Input data: directories")
struct InputDataDirectoryTests {
    private let model = F.model(
        [F.tensor("IMAGE", .fp32, [2, 2]), F.tensor("IDS", .int64, [-1]), F.tensor("TEXT", .bytes, [-1]),
         F.tensor("MASK", .bool, [2], optional: true)],
        outputs: [F.tensor("SCORES", .fp32, [-1]), F.tensor("LABELS", .bytes, [2])])

    private func fill(_ directory: InputDataTempDirectory) throws {
        try directory.write("IMAGE", F.littleEndian([Float(1), 2, 3, 4].map(\.bitPattern)))
        try directory.write("IDS", F.littleEndian([Int64.min, 0, Int64.max]))
        try directory.write("TEXT", text: "first line\n\nthird, with é\n")
    }

    @Test("one stream of one step; raw bytes for fixed-size types, one BYTES element per line")
    func inputs() throws {
        let directory = try InputDataTempDirectory()
        try fill(directory)
        let set = try InputDataLoader.loadDirectory(path: directory.path, model: model, shapes: ["IDS": [3]])
        #expect(set.streams.map(\.count) == [1])
        #expect(set.validation == nil)
        let tensors = set.streams[0][0].tensors
        #expect(tensors.map(\.name) == ["IMAGE", "IDS", "TEXT"])
        #expect(tensors.map(\.shape) == [[2, 2], [3], [3]])
        #expect(tensors[0].bytes == F.littleEndian([Float(1), 2, 3, 4].map(\.bitPattern)))
        #expect(tensors[1].bytes == F.littleEndian([Int64.min, 0, Int64.max]))
        #expect(tensors[2].bytes == F.byteElements(["first line", "", "third, with é"]))
    }

    @Test("optional inputs and output files (validation data) are read when present")
    func optionalAndOutputs() throws {
        let directory = try InputDataTempDirectory()
        try fill(directory)
        try directory.write("MASK", [1, 0])
        try directory.write("SCORES", F.littleEndian([Float(0.25).bitPattern]))
        try directory.write("LABELS", text: "cat\ndog")
        let set = try InputDataLoader.loadDirectory(path: directory.path + "/", model: model, shapes: ["IDS": [3]])
        #expect(set.streams[0][0].tensors.map(\.name) == ["IMAGE", "IDS", "TEXT", "MASK"])
        let validation = try #require(set.validation)
        #expect(validation[0][0].tensors.map(\.name) == ["SCORES", "LABELS"])
        #expect(validation[0][0].tensors.map(\.shape) == [[1], [2]])
        #expect(validation[0][0].tensors[1].bytes == F.byteElements(["cat", "dog"]))
    }

    @Test("a BYTES shape from --shape must match the line count")
    func bytesShape() throws {
        let directory = try InputDataTempDirectory()
        try fill(directory)
        let set = try InputDataLoader.loadDirectory(path: directory.path, model: model, shapes: ["IDS": [3], "TEXT": [1, 3]])
        #expect(set.streams[0][0].tensors[2].shape == [1, 3])
        #expect(throws: InputDataError("\(directory.path)/TEXT: expected 2 lines (one BYTES element per line for shape [2]), found 3")) {
            try InputDataLoader.loadDirectory(path: directory.path, model: model, shapes: ["IDS": [3], "TEXT": [2]])
        }
    }

    @Test("each bad directory gives one line naming the file and the problem")
    func errors() throws {
        let directory = try InputDataTempDirectory()
        let path = directory.path
        try directory.write("IMAGE", [UInt8](repeating: 0, count: 16))
        #expect(throws: InputDataError("\(path)/IDS: missing file for required input 'IDS' (INT64, dims [-1])")) {
            try InputDataLoader.loadDirectory(path: path, model: model, shapes: [:])
        }
        try directory.write("IDS", F.littleEndian([Int64(1)]))
        try directory.write("TEXT", text: "x")
        try directory.write("IMAGE", [UInt8](repeating: 0, count: 15))
        #expect(throws: InputDataError("\(path)/IMAGE: expected 16 bytes (4 FP32 elements for shape [2, 2]), found 15 bytes")) {
            try InputDataLoader.loadDirectory(path: path, model: model, shapes: ["IDS": [1]])
        }
        try directory.write("IMAGE", [UInt8](repeating: 0, count: 16))
        #expect(throws: InputDataError("\(path)/IDS: input 'IDS' has variable-sized dims [-1]; give its shape with --shape IDS:<dims>")) {
            try InputDataLoader.loadDirectory(path: path, model: model, shapes: [:])
        }
        try directory.write("SCORES", [1, 2, 3])
        #expect(throws: InputDataError("\(path)/SCORES: 3 bytes is not a whole number of 4-byte FP32 elements")) {
            try InputDataLoader.loadDirectory(path: path, model: model, shapes: ["IDS": [1]])
        }
        try directory.write("INPUT_0", [1])
        #expect(throws: InputDataError("\(path)/INPUT_0: 'INPUT_0' is not an input or output of model 'm'; its inputs are IMAGE, IDS, TEXT, MASK, its outputs are SCORES, LABELS")) {
            try InputDataLoader.loadDirectory(path: path, model: model, shapes: ["IDS": [1]])
        }
        #expect(throws: InputDataError("\(path)/nothing: no such file or directory")) {
            try InputDataLoader.loadDirectory(path: path + "/nothing", model: model, shapes: [:])
        }
        #expect(throws: InputDataError("\(path)/IMAGE: not a directory")) {
            try InputDataLoader.loadDirectory(path: path + "/IMAGE", model: model, shapes: [:])
        }
    }

    @Test("hidden files such as .DS_Store are ignored")
    func hiddenFiles() throws {
        let directory = try InputDataTempDirectory()
        try fill(directory)
        try directory.write(".DS_Store", [0, 1, 2])
        #expect(try InputDataLoader.loadDirectory(path: directory.path, model: model, shapes: ["IDS": [3]]).streams[0][0].tensors.count == 3)
    }
}
