import Foundation
import KServeProtocol
@testable import PerfAnalyzerKit

/// Shared helpers for the input-data tests.
enum InputDataFixtures {
    static func model(_ inputs: [ModelDescription.Tensor], outputs: [ModelDescription.Tensor] = [], name: String = "m") -> ModelDescription {
        ModelDescription(name: name, version: "", platform: "python", maxBatchSize: 8, inputs: inputs, outputs: outputs)
    }

    static func tensor(_ name: String, _ datatype: DataType, _ shape: [Int64], optional: Bool = false) -> ModelDescription.Tensor {
        .init(name: name, datatype: datatype, shape: shape, optional: optional)
    }

    /// Parses an in-memory document as if it were the file `input.json`.
    static func load(_ json: String, _ model: ModelDescription, shapes: [String: [Int64]] = [:],
                     file: String = "input.json") throws(InputDataError) -> InputDataSet {
        try InputDataLoader.parseJSON(Array(json.utf8), file: file, model: model, shapes: shapes)
    }

    /// The error a document gives, or nil when it loads.
    static func failure(_ json: String, _ model: ModelDescription, shapes: [String: [Int64]] = [:]) -> String? {
        do {
            _ = try load(json, model, shapes: shapes)
            return nil
        } catch {
            return error.description
        }
    }

    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out: [UInt8] = []
        for value in values { appendLittleEndian(value, to: &out) }
        return out
    }

    /// BYTES serialization: 4-byte little-endian length, then the UTF-8 bytes, per element.
    static func byteElements(_ strings: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for string in strings {
            appendLittleEndian(UInt32(string.utf8.count), to: &out)
            out.append(contentsOf: string.utf8)
        }
        return out
    }
}

/// A scratch directory removed when the value goes away.
final class InputDataTempDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("inputdata-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }
}
