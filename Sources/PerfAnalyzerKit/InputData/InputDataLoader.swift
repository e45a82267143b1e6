/// Reads `--input-data` files and directories into binary tensors, checked against the model.
public enum InputDataLoader {
    /// Reads JSON input-data files in order and appends their streams.
    ///
    /// - Parameter shapes: `--shape` values by input name, used for steps that give no "shape".
    public static func loadJSON(paths: [String], model: ModelDescription,
                                shapes: [String: [Int64]]) throws(InputDataError) -> InputDataSet {
        guard !paths.isEmpty else { throw InputDataError("no input data files were given") }
        var loading = try Loading(model: model, shapes: shapes)
        for path in paths {
            let bytes = try FileBytes.contents(of: path, zeroTerminated: true)
            // The binary form is seldom larger than the text; reserving that much touches no memory
            // until it is used and spares the arena most of its regrowth copies.
            loading.inputSteps.arena.reserveForAppending(bytes.count)
            try loading.parse(sentinelTerminated: bytes, file: path)
        }
        return loading.dataSet
    }

    /// Reads a directory holding one raw file per input (and optionally per output): one stream of one step.
    public static func loadDirectory(path: String, model: ModelDescription,
                                     shapes: [String: [Int64]]) throws(InputDataError) -> InputDataSet {
        try DirectoryInputLoader.load(path: path, model: model, shapes: shapes)
    }

    /// Parses a document held in memory; `file` names it in errors. For tests and other in-memory sources.
    static func parseJSON(_ document: [UInt8], file: String, model: ModelDescription,
                          shapes: [String: [Int64]]) throws(InputDataError) -> InputDataSet {
        var loading = try Loading(model: model, shapes: shapes)
        var bytes = document
        bytes.append(0)
        try loading.parse(sentinelTerminated: bytes, file: file)
        return loading.dataSet
    }

    /// The files read so far: their steps in two tables (inputs, and outputs for validation),
    /// shared by every file so that nothing is copied when files are combined.
    private struct Loading {
        let inputs: TensorSlotTable
        let outputs: TensorSlotTable
        var inputSteps: DataStepTable
        var outputSteps: DataStepTable
        var streamLengths: [Int] = []
        var hasValidation = false

        init(model: ModelDescription, shapes: [String: [Int64]]) throws(InputDataError) {
            inputs = try TensorSlotTable.inputs(of: model, shapes: shapes)
            outputs = TensorSlotTable.outputs(of: model)
            inputSteps = DataStepTable(names: inputs.slots.map(\.name), datatypes: inputs.slots.map(\.datatype))
            outputSteps = DataStepTable(names: outputs.slots.map(\.name), datatypes: outputs.slots.map(\.datatype))
        }

        /// Appends one file's streams. A file without validation data gets empty validation steps
        /// (nothing to check), so the outputs stay aligned with the inputs whichever files give them.
        mutating func parse(sentinelTerminated bytes: [UInt8], file: String) throws(InputDataError) {
            let result: Result<ParsedInputFile, InputDataError> = bytes.withUnsafeBufferPointer { buffer in
                var parser = InputDataJSONParser(bytes: buffer, inputs: inputs, outputs: outputs)
                do throws(JSONLoadFailure) {
                    return .success(try parser.parseDocument(inputSteps: &inputSteps, outputSteps: &outputSteps))
                } catch {
                    let document = UnsafeBufferPointer(rebasing: buffer[0..<(buffer.count - 1)])
                    return .failure(error.report(file: file, bytes: document))
                }
            }
            let parsed = try result.get()
            streamLengths += parsed.streamLengths
            if parsed.validationLengths != nil {
                hasValidation = true
            } else {
                outputSteps.appendEmptySteps(parsed.streamLengths.reduce(0, +))
            }
        }

        var dataSet: InputDataSet {
            InputDataSet(steps: inputSteps, streamLengths: streamLengths, validationSteps: hasValidation ? outputSteps : nil)
        }
    }
}
