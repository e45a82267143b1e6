/// Reads `--input-data` files and directories into binary tensors, checked against the model.
public enum InputDataLoader {
    /// Reads JSON input-data files in order and appends their streams.
    ///
    /// - Parameter shapes: `--shape` values by input name, used for steps that give no "shape".
    public static func loadJSON(paths: [String], model: ModelDescription,
                                shapes: [String: [Int64]]) throws(InputDataError) -> InputDataSet {
        guard !paths.isEmpty else { throw InputDataError("no input data files were given") }
        let inputs = try TensorSlotTable.inputs(of: model, shapes: shapes)
        let outputs = TensorSlotTable.outputs(of: model)
        var files: [ParsedInputFile] = []
        for path in paths {
            let bytes = try FileBytes.contents(of: path, zeroTerminated: true)
            files.append(try parse(sentinelTerminated: bytes, file: path, inputs: inputs, outputs: outputs))
        }
        return combine(files)
    }

    /// Reads a directory holding one raw file per input (and optionally per output): one stream of one step.
    public static func loadDirectory(path: String, model: ModelDescription,
                                     shapes: [String: [Int64]]) throws(InputDataError) -> InputDataSet {
        try DirectoryInputLoader.load(path: path, model: model, shapes: shapes)
    }

    /// Parses a document held in memory; `file` names it in errors. For tests and other in-memory sources.
    static func parseJSON(_ document: [UInt8], file: String, model: ModelDescription,
                          shapes: [String: [Int64]]) throws(InputDataError) -> InputDataSet {
        let inputs = try TensorSlotTable.inputs(of: model, shapes: shapes)
        var bytes = document
        bytes.append(0)
        return combine([try parse(sentinelTerminated: bytes, file: file, inputs: inputs, outputs: .outputs(of: model))])
    }

    private static func parse(sentinelTerminated bytes: [UInt8], file: String, inputs: TensorSlotTable,
                              outputs: TensorSlotTable) throws(InputDataError) -> ParsedInputFile {
        let result: Result<ParsedInputFile, InputDataError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = InputDataJSONParser(bytes: buffer, inputs: inputs, outputs: outputs)
            do throws(JSONLoadFailure) {
                return .success(try parser.parseDocument())
            } catch {
                let document = UnsafeBufferPointer(rebasing: buffer[0..<(buffer.count - 1)])
                return .failure(error.report(file: file, bytes: document))
            }
        }
        return try result.get()
    }

    /// Appends every file's streams. When only some files give validation data, the streams of
    /// the others get empty steps (nothing to check), so `validation` stays aligned with `streams`.
    private static func combine(_ files: [ParsedInputFile]) -> InputDataSet {
        var set = InputDataSet(streams: files.flatMap(\.streams))
        if files.contains(where: { $0.validation != nil }) {
            set.validation = files.flatMap { file in
                file.validation ?? file.streams.map { [DataStep](repeating: DataStep(tensors: []), count: $0.count) }
            }
        }
        return set
    }
}
