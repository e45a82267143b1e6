import KServeProtocol

/// Maps a parsed JSON request header onto ``InferRequestHeader``, with errors
/// that say which field is wrong.
enum RequestHeaderReader {
    static func read(_ json: [UInt8]) throws(InferError) -> InferRequestHeader {
        let root: JSONValue
        do {
            root = try JSONScanner.parse(json)
        } catch {
            throw InferError("failed to parse the request JSON buffer: \(error)")
        }
        guard case .object(let fields) = root else {
            throw InferError("failed to parse the request JSON buffer: expected an object")
        }
        guard case .array(let inputList)? = fields["inputs"] else {
            throw InferError("the request has no 'inputs' array")
        }
        var inputs: [InferRequestHeader.Input] = []
        for (position, item) in inputList.enumerated() {
            let where_ = "inputs[\(position)]"
            guard case .object(let input) = item else { throw InferError("\(where_) must be an object") }
            let name = try string(input["name"], at: "\(where_).name")
            let datatype = try string(input["datatype"], at: "\(where_).datatype")
            guard case .array(let dims)? = input["shape"] else { throw InferError("\(where_).shape must be an array") }
            var shape: [Int64] = []
            for dim in dims {
                switch dim {
                case .int(let value): shape.append(value)
                case .uint(let value) where value <= UInt64(Int64.max): shape.append(Int64(value))
                default: throw InferError("\(where_).shape must hold integers")
                }
            }
            var entry = InferRequestHeader.Input(name: name, shape: shape, datatype: .bytes,
                                                 parameters: try parameters(input["parameters"], at: "\(where_).parameters"),
                                                 data: input["data"])
            entry.datatype = datatype  // kept as sent, so a bad one can be named in the error
            inputs.append(entry)
        }
        var outputs: [InferRequestHeader.RequestedOutput]?
        if let outputList = fields["outputs"], outputList != .null {
            guard case .array(let items) = outputList else { throw InferError("'outputs' must be an array") }
            outputs = []
            for (position, item) in items.enumerated() {
                guard case .object(let output) = item else { throw InferError("outputs[\(position)] must be an object") }
                outputs?.append(.init(name: try string(output["name"], at: "outputs[\(position)].name"),
                                      parameters: try parameters(output["parameters"], at: "outputs[\(position)].parameters")))
            }
        }
        var id: String?
        if let value = fields["id"], value != .null {
            id = try string(value, at: "id")
        }
        return InferRequestHeader(id: id, parameters: try parameters(fields["parameters"], at: "parameters"),
                                  inputs: inputs, outputs: outputs)
    }

    private static func string(_ value: JSONValue?, at path: String) throws(InferError) -> String {
        guard case .string(let text)? = value else { throw InferError("\(path) must be a string") }
        return text
    }

    private static func parameters(_ value: JSONValue?, at path: String) throws(InferError) -> [String: JSONValue]? {
        switch value {
        case nil, .null?: return nil
        case .object(let members)?: return members
        default: throw InferError("\(path) must be an object")
        }
    }
}
