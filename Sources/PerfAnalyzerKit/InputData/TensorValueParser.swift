import KServeProtocol

/// A tensor value as written in a step, before its shape is settled (a "shape" key may come
/// after "content", so the checks wait until the whole value is read).
struct ParsedTensorValue {
    /// Where the value's bytes lie in the arena they were written to.
    var offset = 0
    var byteCount = 0
    /// Counted while parsing arrays and BYTES data; nil for fixed-size base64 data, whose count
    /// follows from its byte size.
    var elementCount: Int?
    var explicitShape: [Int64]?
    var shapeOffset = 0
    /// Which key held the base64 text ("b64" or "content.b64"), for size errors.
    var base64Path: [JSONPathComponent]?
}

extension InputDataJSONParser {
    /// Parses one tensor value: an array, `{"b64": ...}`, or `{"content": ..., "shape": [...]}`.
    /// Its bytes are appended to `arena`; the value says where they lie.
    mutating func parseTensorValue(for slot: TensorSlot, into arena: inout [UInt8]) throws(JSONLoadFailure) -> ParsedTensorValue {
        var value = ParsedTensorValue(offset: arena.count)
        switch scanner.current {
        case UInt8(ascii: "["):
            try parseContentArray(for: slot, into: &value, arena: &arena)
        case UInt8(ascii: "{"):
            try parseTensorObject(for: slot, into: &value, arena: &arena)
        default:
            throw scanner.unexpected("expected an array, {\"b64\": ...} or {\"content\": ..., \"shape\": [...]}")
        }
        value.byteCount = arena.count - value.offset
        return value
    }

    private mutating func parseTensorObject(for slot: TensorSlot, into value: inout ParsedTensorValue,
                                            arena: inout [UInt8]) throws(JSONLoadFailure) {
        let objectStart = scanner.pos
        scanner.pos += 1
        scanner.skipWhitespace()
        var sawContent = false
        var sawShape = false
        if scanner.current == UInt8(ascii: "}") {
            throw .content("expected \"content\" (with an optional \"shape\") or \"b64\", found an empty object", at: objectStart)
        }
        repeat {
            let keyStart = scanner.pos
            let key = try readKey()
            let component = JSONPathComponent.key(key)
            do throws(JSONLoadFailure) {
                switch key {
                case "content", "b64":
                    if sawContent {
                        throw .content("a tensor takes one of \"content\" and \"b64\", and only once", at: keyStart)
                    }
                    sawContent = true
                    if key == "b64" {
                        try parseBase64String(for: slot, into: &value, arena: &arena, path: [.key("b64")])
                    } else if scanner.current == UInt8(ascii: "[") {
                        try parseContentArray(for: slot, into: &value, arena: &arena)
                    } else if scanner.current == UInt8(ascii: "{") {
                        try parseBase64Object(for: slot, into: &value, arena: &arena)
                    } else {
                        throw scanner.unexpected("expected an array or {\"b64\": ...}")
                    }
                case "shape":
                    if sawShape { throw .content("duplicate key \"shape\"", at: keyStart) }
                    sawShape = true
                    value.shapeOffset = scanner.pos
                    value.explicitShape = try parseShape()
                default:
                    throw .content("unexpected key; a tensor object takes \"content\" and \"shape\", or \"b64\"", at: keyStart)
                }
            } catch {
                throw error.inside(component)
            }
        } while try scanner.continues(closer: UInt8(ascii: "}"))
        if !sawContent {
            throw .content("missing \"content\": a tensor object with a \"shape\" must hold its data in \"content\"", at: objectStart)
        }
    }

    /// `"content": {"b64": "..."}`.
    private mutating func parseBase64Object(for slot: TensorSlot, into value: inout ParsedTensorValue,
                                            arena: inout [UInt8]) throws(JSONLoadFailure) {
        let objectStart = scanner.pos
        scanner.pos += 1
        scanner.skipWhitespace()
        var sawBase64 = false
        if scanner.current != UInt8(ascii: "}") {
            repeat {
                let keyStart = scanner.pos
                let key = try readKey()
                guard key == "b64", !sawBase64 else {
                    let message = key == "b64" ? "duplicate key \"b64\"" : "unexpected key; the object form of \"content\" is {\"b64\": \"...\"}"
                    throw JSONLoadFailure.content(message, at: keyStart).inside(.key(key))
                }
                sawBase64 = true
                do throws(JSONLoadFailure) {
                    try parseBase64String(for: slot, into: &value, arena: &arena, path: [.key("content"), .key("b64")])
                } catch {
                    throw error.inside(.key("b64"))
                }
            } while try scanner.continues(closer: UInt8(ascii: "}"))
        }
        if !sawBase64 {
            throw .content("expected {\"b64\": \"...\"}, found an object without \"b64\"", at: objectStart)
        }
    }

    private mutating func parseBase64String(for slot: TensorSlot, into value: inout ParsedTensorValue, arena: inout [UInt8],
                                            path: [JSONPathComponent]) throws(JSONLoadFailure) {
        // Errors here carry no path; the caller adds the key (or keys) that held the string.
        let start = scanner.pos
        guard scanner.current == UInt8(ascii: "\"") else {
            throw scanner.unexpected("expected a base64 string")
        }
        textScratch.removeAll(keepingCapacity: true)
        try scanner.readString(appendingTo: &textScratch)
        do throws(StrictBase64.Failure) {
            try StrictBase64.decode(textScratch, appendingTo: &arena)
        } catch {
            throw .content(error.message, at: start)
        }
        if textScratch.count > 1 << 16 { textScratch = [] }  // do not keep a large buffer alive
        value.base64Path = path
        if slot.datatype == .bytes {
            switch TensorShapes.countByteElements(arena[value.offset...]) {
            case .success(let count): value.elementCount = count
            case .failure(let failure): throw .content(failure.message, at: start)
            }
        }
    }

    /// A row-major array of elements (nested arrays are flattened in order), converted as it is read.
    private mutating func parseContentArray(for slot: TensorSlot, into value: inout ParsedTensorValue,
                                            arena: inout [UInt8]) throws(JSONLoadFailure) {
        if let size = slot.datatype.elementSize, let shape = slot.defaultShape, let count = TensorShapes.elementCount(shape) {
            // Each element takes at least two bytes of text ("1,"), which bounds what a bogus shape can reserve.
            let plausible = min(count, (scanner.end - scanner.pos) / 2 + 1)
            arena.reserveForAppending(plausible * size)
        }
        var count = 0
        try parseElements(slot.datatype, into: &arena, count: &count, depth: 0)
        value.elementCount = count
    }

    private mutating func parseElements(_ datatype: DataType, into out: inout [UInt8], count: inout Int, depth: Int) throws(JSONLoadFailure) {
        guard depth < JSONByteScanner.maxDepth else {
            throw scanner.syntaxError("arrays nested more than \(JSONByteScanner.maxDepth) deep")
        }
        scanner.pos += 1
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "]") {
            scanner.pos += 1
            return
        }
        var index = 0
        repeat {
            do throws(JSONLoadFailure) {
                try parseElement(datatype, into: &out, count: &count, depth: depth)
            } catch {
                throw error.inside(.index(index))
            }
            index += 1
        } while try scanner.continues(closer: UInt8(ascii: "]"))
    }

    @inline(__always)
    private mutating func parseElement(_ datatype: DataType, into out: inout [UInt8], count: inout Int, depth: Int) throws(JSONLoadFailure) {
        let start = scanner.pos
        switch scanner.current {
        case UInt8(ascii: "["):
            try parseElements(datatype, into: &out, count: &count, depth: depth + 1)
            return
        case UInt8(ascii: "\""):
            if datatype == .bytes {
                let prefixAt = out.count
                out.append(contentsOf: [0, 0, 0, 0] as [UInt8])
                try scanner.readString(appendingTo: &out)
                let length = out.count - prefixAt - 4
                guard let length32 = UInt32(exactly: length) else {
                    throw .content("a BYTES element of \(length) bytes does not fit its 4-byte length", at: start)
                }
                for shift in 0..<4 { out[prefixAt + shift] = UInt8(truncatingIfNeeded: length32 >> (8 * shift)) }
            } else {
                textScratch.removeAll(keepingCapacity: true)
                try scanner.readString(appendingTo: &textScratch)
                let shown = String(decoding: textScratch.prefix(32), as: UTF8.self) + (textScratch.count > 32 ? "..." : "")
                throw .content("\(Self.expectation(for: datatype)), found the string \"\(shown)\"", at: start)
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            let flag = scanner.consume("true")
            guard flag || scanner.consume("false") else { throw scanner.syntaxError("expected a value") }
            guard datatype == .bool else {
                throw .content("\(Self.expectation(for: datatype)), found \(flag)", at: start)
            }
            out.append(flag ? 1 : 0)
        case UInt8(ascii: "n"):
            guard scanner.consume("null") else { throw scanner.syntaxError("expected a value") }
            throw .content("\(Self.expectation(for: datatype)), found null", at: start)
        case UInt8(ascii: "{"):
            throw .content("\(Self.expectation(for: datatype)), found an object", at: start)
        default:
            let token = try scanner.scanNumber()
            do throws(NumberConversion.Failure) {
                try NumberConversion.append(token, text: scanner, as: datatype, to: &out)
            } catch {
                throw .content(error.message, at: start)
            }
        }
        count += 1
    }

    static func expectation(for datatype: DataType) -> String {
        switch datatype {
        case .bool: return "expected true, false, 0 or 1 for BOOL"
        case .bytes: return "expected a string for BYTES"
        default: return "expected a number for \(datatype.rawValue)"
        }
    }

    /// `"shape": [2, 8]`: non-negative integer dimensions.
    private mutating func parseShape() throws(JSONLoadFailure) -> [Int64] {
        guard scanner.current == UInt8(ascii: "[") else {
            throw scanner.unexpected("expected an array of dimensions")
        }
        scanner.pos += 1
        scanner.skipWhitespace()
        var shape: [Int64] = []
        if scanner.current == UInt8(ascii: "]") {
            scanner.pos += 1
            return shape
        }
        repeat {
            let start = scanner.pos
            guard scanner.describeValueHere() == "a number" else {
                throw scanner.unexpected("expected a non-negative integer dimension").inside(.index(shape.count))
            }
            let token = try scanner.scanNumber()
            guard let (negative, magnitude) = NumberConversion.integer(token, scanner), !negative || magnitude == 0,
                  let dim = Int64(exactly: magnitude) else {
                throw JSONLoadFailure.content("expected a non-negative integer dimension, found \(NumberConversion.found(token, scanner))", at: start)
                    .inside(.index(shape.count))
            }
            shape.append(dim)
        } while try scanner.continues(closer: UInt8(ascii: "]"))
        return shape
    }

    /// Settles the shape of a parsed value and checks its size against it; returns the shape.
    ///
    /// The shape is the step's "shape" when given (it must fit the model's dims), else `--shape`
    /// or the model's fixed dims. An input with variable dims and neither is an error. An output
    /// with variable dims and no "shape" gets the flat shape [elementCount]: nothing else says how
    /// its elements are laid out, and a flat shape keeps the element count for validation.
    static func resolve(_ value: ParsedTensorValue, slot: TensorSlot, at offset: Int) throws(JSONLoadFailure) -> [Int64] {
        let datatype = slot.datatype
        let shape: [Int64]
        if let explicit = value.explicitShape {
            guard TensorShapes.fits(explicit, modelDims: slot.tensor.shape) else {
                throw JSONLoadFailure.content("shape \(TensorShapes.describe(explicit)) does not fit the model's dims \(TensorShapes.describe(slot.tensor.shape)) for \(slot.isOutput ? "output" : "input") '\(slot.name)'", at: value.shapeOffset)
                    .inside(.key("shape"))
            }
            shape = explicit
        } else if let fallback = slot.defaultShape {
            shape = fallback
        } else if slot.isOutput {
            if let count = value.elementCount {
                shape = [Int64(count)]
            } else {
                let size = datatype.elementSize ?? 1
                guard value.byteCount % size == 0 else {
                    throw JSONLoadFailure.content("\(value.byteCount) bytes of base64 data is not a whole number of \(size)-byte \(datatype.rawValue) elements", at: offset)
                        .inside(path: value.base64Path ?? [])
                }
                shape = [Int64(value.byteCount / size)]
            }
        } else {
            throw .content("input '\(slot.name)' has variable-sized dims \(TensorShapes.describe(slot.tensor.shape)); give a \"shape\" next to its \"content\" or --shape \(slot.name):<dims>", at: offset)
        }
        guard let expected = TensorShapes.elementCount(shape) else {
            throw .content("shape \(TensorShapes.describe(shape)) has more elements than can be addressed", at: offset)
        }
        if let count = value.elementCount {
            guard count == expected else {
                throw .content("expected \(expected) \(datatype.rawValue) elements for shape \(TensorShapes.describe(shape)), found \(count)", at: offset)
            }
        } else if let expectedBytes = TensorShapes.byteCount(expected, of: datatype), value.byteCount != expectedBytes {
            throw JSONLoadFailure.content("expected \(expectedBytes) bytes (\(expected) \(datatype.rawValue) elements for shape \(TensorShapes.describe(shape))), found \(value.byteCount) bytes of base64 data", at: offset)
                .inside(path: value.base64Path ?? [])
        } else if TensorShapes.byteCount(expected, of: datatype) == nil {
            throw .content("shape \(TensorShapes.describe(shape)) has more bytes than can be addressed", at: offset)
        }
        return shape
    }
}

extension JSONLoadFailure {
    /// Adds several components at once, outermost first.
    func inside(path: [JSONPathComponent]) -> JSONLoadFailure {
        var copy = self
        copy.reversedPath.append(contentsOf: path.reversed())
        return copy
    }
}
