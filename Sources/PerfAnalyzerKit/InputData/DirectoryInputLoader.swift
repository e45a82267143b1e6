import Foundation
import KServeProtocol

/// `--input-data <directory>`: one file per input named exactly as the input, holding the data of
/// one batch-1 request; files named as outputs are optional validation data.
///
/// Fixed-size datatypes are raw row-major little-endian bytes. BYTES tensors are text, one
/// element per line (split at '\n' only; a final newline does not start another element), as
/// perf_analyzer reads them.
enum DirectoryInputLoader {
    static func load(path: String, model: ModelDescription, shapes: [String: [Int64]]) throws(InputDataError) -> InputDataSet {
        let entries = try listDirectory(path)
        let inputs = try TensorSlotTable.inputs(of: model, shapes: shapes)
        let outputs = TensorSlotTable.outputs(of: model)

        // Like perf_analyzer, refuse files that match nothing: a misspelt name would otherwise go unnoticed.
        let known = Set(model.inputs.map(\.name) + model.outputs.map(\.name))
        for entry in entries.sorted() where !entry.hasPrefix(".") && !known.contains(entry) {
            throw InputDataError("\(join(path, entry)): '\(entry)' is not an input or output of model '\(model.name)'; \(inputs.listing), \(outputs.listing)")
        }

        var inputTensors: [DataStep.Tensor] = []
        for slot in inputs.slots {
            let file = join(path, slot.name)
            guard entries.contains(slot.name) else {
                if slot.tensor.optional { continue }
                throw InputDataError("\(file): missing file for required input '\(slot.name)' (\(slot.datatype.rawValue), dims \(TensorShapes.describe(slot.tensor.shape)))")
            }
            inputTensors.append(try readTensor(file: file, slot: slot))
        }

        var outputTensors: [DataStep.Tensor] = []
        for slot in outputs.slots where entries.contains(slot.name) && !model.inputs.contains(where: { $0.name == slot.name }) {
            outputTensors.append(try readTensor(file: join(path, slot.name), slot: slot))
        }
        return InputDataSet(streams: [[DataStep(tensors: inputTensors)]],
                            validation: outputTensors.isEmpty ? nil : [[DataStep(tensors: outputTensors)]])
    }

    private static func readTensor(file: String, slot: TensorSlot) throws(InputDataError) -> DataStep.Tensor {
        let bytes = try FileBytes.contents(of: file)
        if slot.datatype == .bytes { return try textTensor(bytes, file: file, slot: slot) }
        let size = slot.datatype.elementSize ?? 1
        let shape: [Int64]
        if let known = slot.defaultShape {
            shape = known
        } else if slot.isOutput {
            // Outputs with variable dims get the flat shape their size gives, as in JSON validation data.
            guard bytes.count % size == 0 else {
                throw InputDataError("\(file): \(bytes.count) bytes is not a whole number of \(size)-byte \(slot.datatype.rawValue) elements")
            }
            shape = [Int64(bytes.count / size)]
        } else {
            throw InputDataError("\(file): input '\(slot.name)' has variable-sized dims \(TensorShapes.describe(slot.tensor.shape)); give its shape with --shape \(slot.name):<dims>")
        }
        guard let count = TensorShapes.elementCount(shape), let expected = TensorShapes.byteCount(count, of: slot.datatype) else {
            throw InputDataError("\(file): shape \(TensorShapes.describe(shape)) has more bytes than can be addressed")
        }
        guard bytes.count == expected else {
            throw InputDataError("\(file): expected \(expected) bytes (\(count) \(slot.datatype.rawValue) elements for shape \(TensorShapes.describe(shape))), found \(bytes.count) bytes")
        }
        return DataStep.Tensor(name: slot.name, datatype: slot.datatype, shape: shape, bytes: bytes)
    }

    /// BYTES from text lines, serialized as 4-byte little-endian lengths each followed by the line.
    private static func textTensor(_ text: [UInt8], file: String, slot: TensorSlot) throws(InputDataError) -> DataStep.Tensor {
        var lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let shape = slot.defaultShape ?? [Int64(lines.count)]
        guard let expected = TensorShapes.elementCount(shape) else {
            throw InputDataError("\(file): shape \(TensorShapes.describe(shape)) has more elements than can be addressed")
        }
        guard lines.count == expected else {
            throw InputDataError("\(file): expected \(expected) lines (one BYTES element per line for shape \(TensorShapes.describe(shape))), found \(lines.count)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count + 4 * lines.count)
        for line in lines {
            guard let length = UInt32(exactly: line.count) else {
                throw InputDataError("\(file): a line of \(line.count) bytes does not fit a BYTES element's 4-byte length")
            }
            appendLittleEndian(length, to: &bytes)
            bytes.append(contentsOf: line)
        }
        return DataStep.Tensor(name: slot.name, datatype: slot.datatype, shape: shape, bytes: bytes)
    }

    private static func listDirectory(_ path: String) throws(InputDataError) -> Set<String> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputDataError("\(path): no such file or directory")
        }
        guard isDirectory.boolValue else { throw InputDataError("\(path): not a directory") }
        do {
            return Set(try FileManager.default.contentsOfDirectory(atPath: path))
        } catch {
            throw InputDataError("\(path): cannot list the directory")
        }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
