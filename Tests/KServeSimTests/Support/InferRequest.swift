import Foundation
import KServeProtocol
import NIOCore

/// Builds inference requests the way a client would: a JSON header, plus raw
/// tensors after it when any input travels as binary.
struct InferRequest: Sendable {
    var header: InferRequestHeader
    var binary: [[UInt8]] = []

    /// Inputs given as (name, datatype, shape, raw bytes) are sent as binary.
    init(id: String? = nil, parameters: [String: JSONValue]? = nil,
         binaryInputs: [(String, DataType, [Int64], [UInt8])] = [],
         jsonInputs: [(String, DataType, [Int64], JSONValue)] = [],
         outputs: [InferRequestHeader.RequestedOutput]? = nil) {
        var inputs: [InferRequestHeader.Input] = []
        for (name, datatype, shape, bytes) in binaryInputs {
            inputs.append(.init(name: name, shape: shape, datatype: datatype,
                                parameters: ["binary_data_size": .int(Int64(bytes.count))]))
            binary.append(bytes)
        }
        for (name, datatype, shape, data) in jsonInputs {
            inputs.append(.init(name: name, shape: shape, datatype: datatype, data: data))
        }
        header = InferRequestHeader(id: id, parameters: parameters, inputs: inputs, outputs: outputs)
    }

    func httpRequest(model: String) -> TestRequest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try! encoder.encode(header)
        var body = ByteBuffer(bytes: json)
        var headers: [(String, String)] = []
        if !binary.isEmpty {
            headers.append((BinaryTensorHeader.headerContentLength, String(json.count)))
            for bytes in binary { body.writeBytes(bytes) }
        }
        return TestRequest(method: .POST, path: "/v2/models/\(model)/infer", headers: headers, body: body)
    }
}

/// Raw little-endian bytes of values, as the binary extension carries them.
func rawBytes(_ values: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    for value in values { appendLittleEndian(value.bitPattern, to: &out) }
    return out
}

func rawBytes(_ values: [Int32]) -> [UInt8] {
    var out: [UInt8] = []
    for value in values { appendLittleEndian(value, to: &out) }
    return out
}

func rawBytes(strings: [String]) -> [UInt8] {
    var out: [UInt8] = []
    for text in strings {
        appendLittleEndian(UInt32(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }
    return out
}

func floats(_ bytes: ByteBuffer) -> [Float] {
    let raw = Array(bytes.readableBytesView)
    return stride(from: 0, to: raw.count, by: 4).map { offset in
        Float(bitPattern: UInt32(raw[offset]) | UInt32(raw[offset + 1]) << 8 | UInt32(raw[offset + 2]) << 16 | UInt32(raw[offset + 3]) << 24)
    }
}

extension TestResponse {
    /// The response split into its JSON header and binary outputs.
    func inferResponse() throws -> InferBody.Response {
        let length = headers.first(name: BinaryTensorHeader.headerContentLength).flatMap { Int($0) }
        return try InferBody.decodeResponse(body, headerLength: length)
    }
}

extension InferBody.Response {
    func output(_ name: String) -> InferResponseHeader.Output? {
        header.outputs.first { $0.name == name }
    }

    /// An output's values as JSON, whichever way it travelled.
    func values(_ name: String) throws -> [JSONValue] {
        guard let output = output(name) else { throw TestClientError("no output \(name)") }
        if let bytes = binaryOutputs[name] {
            return try TensorCodec.json(fromBinary: Array(bytes.readableBytesView), datatype: DataType(rawValue: output.datatype)!)
        }
        guard let data = output.data else { throw TestClientError("output \(name) has neither data nor binary") }
        return TensorCodec.flatten(data)
    }

    func int32Values(_ name: String) throws -> [Int64] {
        try values(name).map { $0.int64Value ?? .min }
    }
}
