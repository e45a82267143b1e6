import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private typealias F = InputDataFixtures

/// A document that must be refused, and what its one-line error must say.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var json: String
    var model: ModelDescription
    var shapes: [String: [Int64]] = [:]
    /// The whole message when known exactly; otherwise fragments it must contain.
    var exactly: String?
    var contains: [String] = []
    var testDescription: String { name }
}

private let int32x4 = F.model([F.tensor("INPUT0", .int32, [4]), F.tensor("INPUT1", .int32, [4])],
                              outputs: [F.tensor("OUTPUT0", .int32, [4]), F.tensor("OUTPUT1", .int32, [-1])])
private let variable = F.model([F.tensor("INPUT", .int32, [-1, -1])])
private func single(_ datatype: DataType, _ dims: [Int64] = [-1]) -> ModelDescription { F.model([F.tensor("X", datatype, dims)]) }
private let ok = #"[1, 2, 3, 4]"#

private let badInputs: [BadInput] = [
    // Syntax, with line and column.
    BadInput(name: "missing comma", json: "{\n  \"data\": [\n    {\"INPUT0\": [1 2]}\n  ]\n}", model: int32x4,
             exactly: "input.json: invalid JSON at line 3, column 19: expected ',' or ']'"),
    BadInput(name: "missing colon", json: #"{"data" [{}]}"#, model: int32x4,
             exactly: "input.json: invalid JSON at line 1, column 9: expected ':' after a key"),
    BadInput(name: "truncated file", json: #"{"data": [{"INPUT0": [1, 2"#, model: int32x4,
             exactly: "input.json: invalid JSON at line 1, column 27: unexpected end of input; expected ',' or ']'"),
    BadInput(name: "empty file", json: "", model: int32x4,
             exactly: "input.json: invalid JSON at line 1, column 1: unexpected end of input; expected a JSON object"),
    BadInput(name: "trailing text", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}]} x"#, model: int32x4,
             contains: ["invalid JSON at line 1, column 56", "unexpected text after the top-level object"]),
    BadInput(name: "leading zero", json: #"{"data": [{"INPUT0": [01, 2, 3, 4]}]}"#, model: int32x4,
             contains: ["invalid JSON at line 1, column 23", "leading zeros"]),
    BadInput(name: "bare dot", json: #"{"data": [{"INPUT0": [1., 2, 3, 4]}]}"#, model: int32x4,
             contains: ["column 25", "expected a digit after '.'"]),
    BadInput(name: "bad escape", json: #"{"data": [{"X": ["\q"]}]}"#, model: single(.bytes),
             contains: ["invalid JSON at line 1, column 19", #"invalid escape '\q'"#]),
    BadInput(name: "lone surrogate", json: #"{"data": [{"X": ["\udc00"]}]}"#, model: single(.bytes),
             contains: ["invalid JSON", "low surrogate"]),
    BadInput(name: "unpaired high surrogate", json: #"{"data": [{"X": ["\ud800x"]}]}"#, model: single(.bytes),
             contains: ["invalid JSON", "high surrogate without a low surrogate"]),
    BadInput(name: "raw newline in a string", json: "{\"data\": [{\"X\": [\"a\nb\"]}]}", model: single(.bytes),
             contains: ["invalid JSON at line 1, column 20", "control character 0xA must be escaped"]),
    BadInput(name: "unterminated string", json: #"{"data": [{"X": ["abc"#, model: single(.bytes),
             contains: ["invalid JSON", "unexpected end of input inside a string"]),
    BadInput(name: "nesting too deep", json: #"{"data": [{"X": "# + String(repeating: "[", count: 300), model: single(.int32),
             contains: ["invalid JSON at line 1, column 117", "arrays nested more than 100 deep"]),

    // Document structure.
    BadInput(name: "skipped value nested too deep", json: #"{"x": "# + String(repeating: "{\"a\": [", count: 60), model: int32x4,
             contains: ["invalid JSON", "values nested more than 100 deep"]),
    BadInput(name: "top level is an array", json: "[1]", model: int32x4,
             exactly: "input.json: expected an object with a \"data\" array at the top level, found an array"),
    BadInput(name: "no data", json: #"{"validation_data": [{"OUTPUT0": [1, 2, 3, 4]}]}"#, model: int32x4,
             exactly: "input.json: missing \"data\": the top-level object has no \"data\" key"),
    BadInput(name: "empty data", json: #"{"data": []}"#, model: int32x4,
             exactly: "input.json: data: expected at least one step, found an empty array"),
    BadInput(name: "data is an object", json: #"{"data": {"INPUT0": [1]}}"#, model: int32x4,
             exactly: "input.json: data: expected an array of steps or of streams, found an object"),
    BadInput(name: "duplicate data", json: #"{"data": [{}], "data": [{}]}"#, model: F.model([]),
             exactly: "input.json: data: duplicate key \"data\""),
    BadInput(name: "steps then a stream", json: #"{"data": [{"X": [1]}, [{"X": [1]}]]}"#, model: single(.int32, [1]),
             exactly: "input.json: data[1]: expected a step object like data[0], found an array; \"data\" cannot mix steps and streams"),
    BadInput(name: "streams then a step", json: #"{"data": [[{"X": [1]}], {"X": [1]}]}"#, model: single(.int32, [1]),
             exactly: "input.json: data[1]: expected an array of steps like data[0], found an object; \"data\" cannot mix steps and streams"),
    BadInput(name: "step is a number", json: #"{"data": [{"X": [1]}, 7]}"#, model: single(.int32, [1]),
             exactly: "input.json: data[1]: expected a step object like data[0], found a number"),
    BadInput(name: "empty stream", json: #"{"data": [[{"X": [1]}], []]}"#, model: single(.int32, [1]),
             exactly: "input.json: data[1]: expected a stream of at least one step, found an empty array"),
    BadInput(name: "array inside a stream", json: #"{"data": [[{"X": [1]}, [{"X": [1]}]]]}"#, model: single(.int32, [1]),
             exactly: "input.json: data[0][1]: expected a step object, found an array"),

    // Steps and their keys.
    BadInput(name: "unknown input", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}, {"INPUT0": [1,2,3,4], "INPUTX": [1]}]}"#,
             model: int32x4, exactly: "input.json: data[1].INPUTX: 'INPUTX' is not an input of model 'm'; its inputs are INPUT0, INPUT1"),
    BadInput(name: "missing required input", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}, {"INPUT0": [1,2,3,4]}]}"#,
             model: int32x4, exactly: "input.json: data[1]: missing input 'INPUT1'; every step must give each required input (its inputs are INPUT0, INPUT1)"),
    BadInput(name: "missing input in a stream", json: #"{"data": [[{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}], [{"INPUT1": [1,2,3,4]}]]}"#,
             model: int32x4, contains: ["input.json: data[1][0]: missing input 'INPUT0'"]),
    BadInput(name: "duplicate input", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT0": [1,2,3,4]}]}"#, model: int32x4,
             exactly: "input.json: data[0].INPUT0: duplicate key \"INPUT0\""),
    BadInput(name: "tensor is a string", json: #"{"data": [{"X": "abc"}]}"#, model: single(.bytes, [1]),
             exactly: "input.json: data[0].X: expected an array, {\"b64\": ...} or {\"content\": ..., \"shape\": [...]}, found a string"),

    // Element counts and shapes.
    BadInput(name: "too few elements", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}, {}, {}, {"INPUT0": [1,2,3], "INPUT1": [1,2,3,4]}]}"#,
             model: int32x4, contains: ["input.json: data[1]: missing input 'INPUT0'"]),
    BadInput(name: "element count", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}, {"INPUT0": [1,2,3], "INPUT1": [1,2,3,4]}]}"#,
             model: int32x4, exactly: "input.json: data[1].INPUT0: expected 4 INT32 elements for shape [4], found 3"),
    BadInput(name: "element count in a stream", json: #"{"data": [[{"X": [1]}], [{"X": [1]}, {"X": [1]}, {"X": [1, 2]}]]}"#,
             model: single(.int32, [1]), exactly: "input.json: data[1][2].X: expected 1 INT32 elements for shape [1], found 2"),
    BadInput(name: "content count against step shape", json: #"{"data": [{"INPUT": {"content": [1, 2, 3], "shape": [2, 2]}}]}"#,
             model: variable, exactly: "input.json: data[0].INPUT: expected 4 INT32 elements for shape [2, 2], found 3"),
    BadInput(name: "variable input without shape", json: #"{"data": [{"INPUT": [1, 2]}]}"#, model: variable,
             exactly: "input.json: data[0].INPUT: input 'INPUT' has variable-sized dims [-1, -1]; give a \"shape\" next to its \"content\" or --shape INPUT:<dims>"),
    BadInput(name: "negative dim", json: #"{"data": [{"INPUT": {"content": [1], "shape": [1, -3]}}]}"#, model: variable,
             exactly: "input.json: data[0].INPUT.shape[1]: expected a non-negative integer dimension, found -3"),
    BadInput(name: "fractional dim", json: #"{"data": [{"INPUT": {"content": [1], "shape": [1.5, 1]}}]}"#, model: variable,
             exactly: "input.json: data[0].INPUT.shape[0]: expected a non-negative integer dimension, found 1.5"),
    BadInput(name: "string dim", json: #"{"data": [{"INPUT": {"content": [1], "shape": ["1", 1]}}]}"#, model: variable,
             exactly: "input.json: data[0].INPUT.shape[0]: expected a non-negative integer dimension, found a string"),
    BadInput(name: "garbage dim", json: #"{"data": [{"INPUT": {"content": [1], "shape": [x]}}]}"#, model: variable,
             contains: ["invalid JSON at line 1, column 48: expected a value"]),
    BadInput(name: "lone minus", json: #"{"data": [{"INPUT": {"content": [-], "shape": [1, 1]}}]}"#, model: variable,
             contains: ["invalid JSON at line 1, column 35: expected a digit after '-'"]),
    BadInput(name: "shape of the wrong rank", json: #"{"data": [{"INPUT": {"content": [1, 2], "shape": [2]}}]}"#, model: variable,
             exactly: "input.json: data[0].INPUT.shape: shape [2] does not fit the model's dims [-1, -1] for input 'INPUT'"),
    BadInput(name: "shape against a fixed dim", json: #"{"data": [{"X": {"content": [1, 2], "shape": [1, 2]}}]}"#, model: single(.int32, [-1, 3]),
             contains: ["data[0].X.shape: shape [1, 2] does not fit the model's dims [-1, 3]"]),
    BadInput(name: "shape overflows", json: #"{"data": [{"INPUT": {"content": [1], "shape": [4294967296, 4294967296]}}]}"#, model: variable,
             contains: ["data[0].INPUT: shape [4294967296, 4294967296] has more elements than can be addressed"]),
    BadInput(name: "negative --shape", json: #"{"data": [{"INPUT": [1]}]}"#, model: variable, shapes: ["INPUT": [-1, 1]],
             exactly: "--shape INPUT:-1,1: dimensions must be non-negative"),

    // Tensor objects.
    BadInput(name: "shape without content", json: #"{"data": [{"INPUT": {"shape": [1, 1]}}]}"#, model: variable,
             contains: ["data[0].INPUT: missing \"content\""]),
    BadInput(name: "unknown tensor key", json: #"{"data": [{"INPUT": {"content": [1], "shape": [1, 1], "dims": [1]}}]}"#, model: variable,
             contains: ["data[0].INPUT.dims: unexpected key"]),
    BadInput(name: "content and b64", json: #"{"data": [{"INPUT": {"content": [1], "b64": "AAAAAA=="}}]}"#, model: variable,
             contains: ["data[0].INPUT.b64: a tensor takes one of \"content\" and \"b64\""]),
    BadInput(name: "content is a number", json: #"{"data": [{"INPUT": {"content": 5, "shape": [1, 1]}}]}"#, model: variable,
             exactly: "input.json: data[0].INPUT.content: expected an array or {\"b64\": ...}, found a number"),
    BadInput(name: "content element", json: #"{"data": [{}, {}, {"INPUT": {"content": [1, 2, 3, "4"], "shape": [2, 2]}}]}"#,
             model: F.model([F.tensor("INPUT", .int32, [-1, -1], optional: true)]),
             exactly: "input.json: data[2].INPUT.content[3]: expected a number for INT32, found the string \"4\""),
    BadInput(name: "empty tensor object", json: #"{"data": [{"INPUT": {}}]}"#, model: variable,
             contains: ["data[0].INPUT: expected \"content\""]),

    // Element values.
    BadInput(name: "300 into UINT8", json: #"{"data": [{"X": [1, 300]}]}"#, model: single(.uint8),
             exactly: "input.json: data[0].X[1]: expected an integer in 0...255 for UINT8, found 300"),
    BadInput(name: "1.5 into INT32", json: #"{"data": [{"X": [1.5]}]}"#, model: single(.int32),
             exactly: "input.json: data[0].X[0]: expected an integer in -2147483648...2147483647 for INT32, found 1.5"),
    BadInput(name: "-1 into UINT32", json: #"{"data": [{"X": [0, -1]}]}"#, model: single(.uint32),
             exactly: "input.json: data[0].X[1]: expected an integer in 0...4294967295 for UINT32, found -1"),
    BadInput(name: "UINT64 max + 1", json: #"{"data": [{"X": [18446744073709551616]}]}"#, model: single(.uint64),
             contains: ["data[0].X[0]: expected an integer in 0...18446744073709551615 for UINT64, found 18446744073709551616"]),
    BadInput(name: "INT64 min - 1", json: #"{"data": [{"X": [-9223372036854775809]}]}"#, model: single(.int64),
             contains: ["data[0].X[0]: expected an integer in", "found -9223372036854775809"]),
    BadInput(name: "INT8 128", json: #"{"data": [{"X": [[1], [128]]}]}"#, model: single(.int8),
             exactly: "input.json: data[0].X[1][0]: expected an integer in -128...127 for INT8, found 128"),
    BadInput(name: "BOOL 2", json: #"{"data": [{"X": [true, 2]}]}"#, model: single(.bool),
             exactly: "input.json: data[0].X[1]: expected true, false, 0 or 1 for BOOL, found 2"),
    BadInput(name: "BOOL string", json: #"{"data": [{"X": ["true"]}]}"#, model: single(.bool),
             contains: ["data[0].X[0]: expected true, false, 0 or 1 for BOOL, found the string \"true\""]),
    BadInput(name: "boolean into INT32", json: #"{"data": [{"X": [true]}]}"#, model: single(.int32),
             exactly: "input.json: data[0].X[0]: expected a number for INT32, found true"),
    BadInput(name: "null element", json: #"{"data": [{"X": [null]}]}"#, model: single(.fp32),
             exactly: "input.json: data[0].X[0]: expected a number for FP32, found null"),
    BadInput(name: "object element", json: #"{"data": [{"X": [{}]}]}"#, model: single(.fp64),
             exactly: "input.json: data[0].X[0]: expected a number for FP64, found an object"),
    BadInput(name: "number into BYTES", json: #"{"data": [{"X": ["a", 1]}]}"#, model: single(.bytes),
             exactly: "input.json: data[0].X[1]: expected a string for BYTES, found 1"),
    BadInput(name: "FP32 overflow", json: #"{"data": [{"X": [1e39]}]}"#, model: single(.fp32),
             exactly: "input.json: data[0].X[0]: 1e39 is out of range for FP32 (largest finite magnitude 3.4028235e38)"),
    BadInput(name: "FP16 overflow", json: #"{"data": [{"X": [65504, -65520]}]}"#, model: single(.fp16),
             exactly: "input.json: data[0].X[1]: -65520 is out of range for FP16 (largest finite magnitude 65504)"),
    BadInput(name: "BF16 overflow", json: #"{"data": [{"X": [3.4e38]}]}"#, model: single(.bf16),
             contains: ["data[0].X[0]: 3.4e38 is out of range for BF16"]),
    BadInput(name: "FP64 overflow", json: #"{"data": [{"X": [1e309]}]}"#, model: single(.fp64),
             contains: ["data[0].X[0]: 1e309 is out of range for FP64"]),
    BadInput(name: "NaN into INT32", json: #"{"data": [{"X": [NaN]}]}"#, model: single(.int32),
             contains: ["data[0].X[0]: expected an integer", "found NaN"]),

    // Base64.
    BadInput(name: "b64 invalid character", json: #"{"data": [{"X": {"b64": "AAA*"}}]}"#, model: single(.uint8, [3]),
             exactly: "input.json: data[0].X.b64: invalid base64 character '*' at position 3"),
    BadInput(name: "b64 not a string", json: #"{"data": [{"X": {"b64": [1]}}]}"#, model: single(.uint8, [3]),
             exactly: "input.json: data[0].X.b64: expected a base64 string, found an array"),
    BadInput(name: "b64 bad padding", json: #"{"data": [{"X": {"b64": "AA="}}]}"#, model: single(.uint8, [1]),
             contains: ["data[0].X.b64: invalid base64", "not a multiple of 4"]),
    BadInput(name: "b64 size not a whole element", json: #"{"data": [{"X": {"content": {"b64": "AAAA"}, "shape": [1]}}]}"#,
             model: single(.fp32), exactly: "input.json: data[0].X.content.b64: expected 4 bytes (1 FP32 elements for shape [1]), found 3 bytes of base64 data"),
    BadInput(name: "b64 BYTES prefix past the end", json: #"{"data": [{"X": {"b64": "BQAAAGFi"}}]}"#, model: single(.bytes, [1]),
             exactly: "input.json: data[0].X.b64: BYTES element 0: length 5 runs past the end (2 bytes left)"),
    BadInput(name: "b64 BYTES prefix cut short", json: #"{"data": [{"X": {"b64": "AQAAAGEA"}}]}"#, model: single(.bytes, [1]),
             contains: ["data[0].X.b64: BYTES element 1: its 4-byte length prefix is cut short"]),
    BadInput(name: "content.b64 extra key", json: #"{"data": [{"X": {"content": {"b64": "AA==", "x": 1}}}]}"#, model: single(.uint8, [1]),
             contains: ["data[0].X.content.x: unexpected key"]),

    // Validation data.
    BadInput(name: "unknown output", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}], "validation_data": [{"OUTPUT9": [1]}]}"#,
             model: int32x4, exactly: "input.json: validation_data[0].OUTPUT9: 'OUTPUT9' is not an output of model 'm'; its outputs are OUTPUT0, OUTPUT1"),
    BadInput(name: "validation count", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}, {"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}], "validation_data": [{"OUTPUT0": [1,2,3,4]}]}"#,
             model: int32x4, exactly: "input.json: validation_data: expected 2 steps to match \"data\", found 1"),
    BadInput(name: "validation stream count", json: #"{"validation_data": [[{}], [{}]], "data": [[{"X": [1]}], [{"X": [1]}, {"X": [1]}]]}"#,
             model: single(.int32, [1]), exactly: "input.json: validation_data[1]: expected 2 steps to match data[1], found 1"),
    BadInput(name: "validation structure", json: #"{"data": [[{"X": [1]}]], "validation_data": [{}]}"#,
             model: single(.int32, [1]), exactly: "input.json: validation_data: expected an array of streams like \"data\", found an array of steps"),
    BadInput(name: "validation element", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}], "validation_data": [{"OUTPUT0": [1,2,3,4.5]}]}"#,
             model: int32x4, contains: ["validation_data[0].OUTPUT0[3]: expected an integer"]),
    BadInput(name: "validation fixed output size", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}], "validation_data": [{"OUTPUT0": [1]}]}"#,
             model: int32x4, exactly: "input.json: validation_data[0].OUTPUT0: expected 4 INT32 elements for shape [4], found 1"),
    BadInput(name: "validation b64 not whole elements", json: #"{"data": [{"INPUT0": [1,2,3,4], "INPUT1": [1,2,3,4]}], "validation_data": [{"OUTPUT1": {"b64": "AAAA"}}]}"#,
             model: int32x4, exactly: "input.json: validation_data[0].OUTPUT1.b64: 3 bytes of base64 data is not a whole number of 4-byte INT32 elements"),
]

@Suite("Input data: every bad input gives one line naming the file, the path and the problem")
struct InputDataErrorTests {
    @Test("bad documents are refused", arguments: badInputs)
    func refused(_ bad: BadInput) {
        let message = F.failure(bad.json, bad.model, shapes: bad.shapes)
        guard let message else {
            Issue.record("\(bad.name) loaded without an error")
            return
        }
        #expect(!message.contains("\n"))
        if let exactly = bad.exactly {
            #expect(message == exactly)
        }
        for fragment in bad.contains {
            #expect(message.contains(fragment), "\(message)")
        }
        if !message.hasPrefix("--shape") {
            #expect(message.hasPrefix("input.json: "))
        }
    }

    @Test("a missing file and a directory given as a file are named")
    func unreadable() throws {
        let directory = try InputDataTempDirectory()
        let model = F.model([F.tensor("X", .int32, [1])])
        #expect(throws: InputDataError("\(directory.path)/nope.json: cannot open: No such file or directory")) {
            try InputDataLoader.loadJSON(paths: [directory.path + "/nope.json"], model: model, shapes: [:])
        }
        #expect(throws: InputDataError("\(directory.path): cannot read: it is a directory")) {
            try InputDataLoader.loadJSON(paths: [directory.path], model: model, shapes: [:])
        }
        #expect(throws: InputDataError("no input data files were given")) {
            try InputDataLoader.loadJSON(paths: [], model: model, shapes: [:])
        }
    }

    @Test("errors in a later file name that file")
    func laterFile() throws {
        let directory = try InputDataTempDirectory()
        let good = try directory.write("good.json", text: #"{"data": [{"X": [1]}]}"#)
        let bad = try directory.write("bad.json", text: "{\"data\": [{\"X\": [1]},\n {\"X\": [2, 3]}]}")
        let model = F.model([F.tensor("X", .int32, [1])])
        #expect(throws: InputDataError("\(bad): data[1].X: expected 1 INT32 elements for shape [1], found 2")) {
            try InputDataLoader.loadJSON(paths: [good, bad], model: model, shapes: [:])
        }
    }

    @Test("line breaks quoted from the input stay escaped in the one-line message")
    func oneLine() {
        let model = F.model([F.tensor("X", .int32, [1])])
        let message = F.failure(#"{"data": [{"a\nb": [1]}]}"#, model)
        #expect(message == #"input.json: data[0].a\nb: 'a\nb' is not an input of model 'm'; its inputs are X"#)
    }
}
