/// What one JSON input-data file holds; its steps went to the tables the parser filled.
struct ParsedInputFile {
    /// Steps per stream: one stream when "data" holds steps, else one per array of steps.
    var streamLengths: [Int]
    /// Aligned with `streamLengths`; nil without "validation_data".
    var validationLengths: [Int]?
}

/// Reads one input-data document straight from its bytes, following the schema
/// (object → "data"/"validation_data" → streams → steps → tensor values) without building a JSON
/// tree: tensor values become their binary form as they are read, written straight into the
/// arena of the table their steps go to.
struct InputDataJSONParser {
    var scanner: JSONByteScanner
    let inputs: TensorSlotTable
    let outputs: TensorSlotTable
    /// Reused buffers for keys and strings that are not kept.
    var keyScratch: [UInt8] = []
    var textScratch: [UInt8] = []
    /// Per-step values by slot, and where each began; reused from step to step.
    private var stepValues: [ParsedTensorValue?] = []
    private var stepOffsets: [Int] = []

    init(bytes: UnsafeBufferPointer<UInt8>, inputs: TensorSlotTable, outputs: TensorSlotTable) {
        self.scanner = JSONByteScanner(sentinelTerminated: bytes)
        self.inputs = inputs
        self.outputs = outputs
    }

    private struct DataArray {
        var holdsStreams: Bool
        /// Steps per stream (one entry when the array holds steps).
        var streamLengths: [Int]
    }

    /// Parses the document, appending "data" steps to `inputSteps` and "validation_data" steps to `outputSteps`.
    mutating func parseDocument(inputSteps: inout DataStepTable, outputSteps: inout DataStepTable) throws(JSONLoadFailure) -> ParsedInputFile {
        scanner.skipByteOrderMark()
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{"), !scanner.atEnd else {
            throw scanner.unexpected("expected an object with a \"data\" array at the top level", syntax: "expected a JSON object")
        }
        scanner.pos += 1
        scanner.skipWhitespace()
        var data: DataArray?
        var validation: DataArray?
        if scanner.current != UInt8(ascii: "}") {
            repeat {
                let keyStart = scanner.pos
                try readKeyBytes()
                if keyScratch.elementsEqual("data".utf8) {
                    if data != nil { throw JSONLoadFailure.content("duplicate key \"data\"", at: keyStart).inside(.key("data")) }
                    data = try parseDataArray(table: inputs, root: "data", into: &inputSteps)
                } else if keyScratch.elementsEqual("validation_data".utf8) {
                    if validation != nil {
                        throw JSONLoadFailure.content("duplicate key \"validation_data\"", at: keyStart).inside(.key("validation_data"))
                    }
                    validation = try parseDataArray(table: outputs, root: "validation_data", into: &outputSteps)
                } else {
                    // perf_analyzer reads only "data" and "validation_data"; anything else is left alone.
                    try scanner.skipValue(depth: 1)
                }
            } while try scanner.continues(closer: UInt8(ascii: "}"))
        } else {
            scanner.pos += 1
        }
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.syntaxError("unexpected text after the top-level object") }
        guard let data else {
            throw .content("missing \"data\": the top-level object has no \"data\" key", at: 0)
        }
        if let validation { try Self.checkAlignment(validation, with: data) }
        return ParsedInputFile(streamLengths: data.streamLengths, validationLengths: validation?.streamLengths)
    }

    /// "validation_data" must have the shape of "data": steps for steps, streams for streams, same counts.
    private static func checkAlignment(_ validation: DataArray, with data: DataArray) throws(JSONLoadFailure) {
        func fail(_ message: String, _ path: [JSONPathComponent]) -> JSONLoadFailure {
            JSONLoadFailure.content(message, at: 0).inside(path: path)
        }
        func kind(_ array: DataArray) -> String { array.holdsStreams ? "an array of streams" : "an array of steps" }
        guard validation.holdsStreams == data.holdsStreams else {
            throw fail("expected \(kind(data)) like \"data\", found \(kind(validation))", [.key("validation_data")])
        }
        guard data.holdsStreams else {
            let expected = data.streamLengths[0], found = validation.streamLengths[0]
            if expected != found { throw fail("expected \(expected) steps to match \"data\", found \(found)", [.key("validation_data")]) }
            return
        }
        guard validation.streamLengths.count == data.streamLengths.count else {
            throw fail("expected \(data.streamLengths.count) streams to match \"data\", found \(validation.streamLengths.count)", [.key("validation_data")])
        }
        for (index, (expected, found)) in zip(data.streamLengths, validation.streamLengths).enumerated() where expected != found {
            throw fail("expected \(expected) steps to match data[\(index)], found \(found)", [.key("validation_data"), .index(index)])
        }
    }

    /// "data" (or "validation_data"): an array of steps, or an array of arrays of steps; never a mix.
    private mutating func parseDataArray(table: TensorSlotTable, root: String,
                                         into steps: inout DataStepTable) throws(JSONLoadFailure) -> DataArray {
        do throws(JSONLoadFailure) {
            guard scanner.current == UInt8(ascii: "[") else {
                throw scanner.unexpected("expected an array of steps or of streams")
            }
            let arrayStart = scanner.pos
            scanner.pos += 1
            scanner.skipWhitespace()
            if scanner.current == UInt8(ascii: "]") {
                throw .content("expected at least one step, found an empty array", at: arrayStart)
            }
            let holdsStreams = scanner.current == UInt8(ascii: "[")
            var streamLengths: [Int] = []
            var index = 0
            repeat {
                do throws(JSONLoadFailure) {
                    if holdsStreams {
                        guard scanner.current == UInt8(ascii: "[") else {
                            throw scanner.unexpected("expected an array of steps like \(root)[0]", then: "; \"\(root)\" cannot mix steps and streams")
                        }
                        streamLengths.append(try parseStream(table: table, into: &steps))
                    } else {
                        guard scanner.current == UInt8(ascii: "{") else {
                            let mixing = scanner.current == UInt8(ascii: "[") ? "; \"\(root)\" cannot mix steps and streams" : ""
                            throw scanner.unexpected("expected a step object like \(root)[0]", then: mixing)
                        }
                        try parseStep(table: table, into: &steps)
                    }
                } catch {
                    throw error.inside(.index(index))
                }
                index += 1
            } while try scanner.continues(closer: UInt8(ascii: "]"))
            if !holdsStreams { streamLengths = [index] }
            return DataArray(holdsStreams: holdsStreams, streamLengths: streamLengths)
        } catch {
            throw error.inside(.key(root))
        }
    }

    /// One stream: a non-empty array of step objects. Returns how many steps it held.
    private mutating func parseStream(table: TensorSlotTable, into steps: inout DataStepTable) throws(JSONLoadFailure) -> Int {
        let arrayStart = scanner.pos
        scanner.pos += 1
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "]") {
            throw .content("expected a stream of at least one step, found an empty array", at: arrayStart)
        }
        var index = 0
        repeat {
            do throws(JSONLoadFailure) {
                guard scanner.current == UInt8(ascii: "{") else {
                    throw scanner.unexpected("expected a step object")
                }
                try parseStep(table: table, into: &steps)
            } catch {
                throw error.inside(.index(index))
            }
            index += 1
        } while try scanner.continues(closer: UInt8(ascii: "]"))
        return index
    }

    /// One step: an object from tensor names to values. Required inputs must all be there; the
    /// tensors come out in the model's order whatever the key order (their bytes stay in the
    /// arena in key order).
    private mutating func parseStep(table: TensorSlotTable, into steps: inout DataStepTable) throws(JSONLoadFailure) {
        let stepStart = scanner.pos
        scanner.pos += 1
        scanner.skipWhitespace()
        stepValues.removeAll(keepingCapacity: true)
        stepValues.append(contentsOf: repeatElement(nil, count: table.slots.count))
        stepOffsets.removeAll(keepingCapacity: true)
        stepOffsets.append(contentsOf: repeatElement(0, count: table.slots.count))
        if scanner.current == UInt8(ascii: "}") {
            scanner.pos += 1
        } else {
            repeat {
                let keyStart = scanner.pos
                try readKeyBytes()
                guard let slotIndex = table.index(of: keyScratch) else {
                    // perf_analyzer lets a step carry a "model" key that is not a tensor.
                    if keyScratch.elementsEqual("model".utf8) {
                        try scanner.skipValue(depth: 1)
                        continue
                    }
                    let key = String(decoding: keyScratch, as: UTF8.self)
                    throw JSONLoadFailure.content("'\(key)' is not an \(table.kind) of model '\(table.modelName)'; \(table.listing)", at: keyStart)
                        .inside(.key(key))
                }
                let slot = table.slots[slotIndex]
                guard stepValues[slotIndex] == nil else {
                    throw JSONLoadFailure.content("duplicate key \"\(slot.name)\"", at: keyStart).inside(.key(slot.name))
                }
                stepOffsets[slotIndex] = scanner.pos
                do throws(JSONLoadFailure) {
                    let value = try parseTensorValue(for: slot, into: &steps.arena)
                    stepValues[slotIndex] = value
                } catch {
                    throw error.inside(.key(slot.name))
                }
            } while try scanner.continues(closer: UInt8(ascii: "}"))
        }
        for (index, slot) in table.slots.enumerated() {
            if let value = stepValues[index] {
                do throws(JSONLoadFailure) {
                    let shape = try Self.resolve(value, slot: slot, at: stepOffsets[index])
                    steps.appendTensor(slot: index, shape: shape, offset: value.offset, count: value.byteCount)
                } catch {
                    throw error.inside(.key(slot.name))
                }
            } else if !table.isOutput && !slot.tensor.optional {
                throw .content("missing input '\(slot.name)'; every step must give each required input (\(table.listing))", at: stepStart)
            }
        }
        steps.endStep()
    }

    /// Reads a key and the ':' after it into `keyScratch`, leaving the cursor on the value.
    private mutating func readKeyBytes() throws(JSONLoadFailure) {
        guard scanner.current == UInt8(ascii: "\"") else { throw scanner.syntaxError("expected a string key") }
        keyScratch.removeAll(keepingCapacity: true)
        try scanner.readString(appendingTo: &keyScratch)
        scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: ":"), "expected ':' after a key")
        scanner.skipWhitespace()
    }

    mutating func readKey() throws(JSONLoadFailure) -> String {
        try readKeyBytes()
        return String(decoding: keyScratch, as: UTF8.self)
    }
}
