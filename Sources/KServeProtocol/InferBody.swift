import Foundation
import NIOCore

/// Splits an HTTP inference body into its JSON header and the raw tensors that
/// follow it under the binary tensor data extension.
public enum InferBody {
    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// A decoded request: the header, and the raw bytes of each input that travelled as binary.
    public struct Request: Sendable {
        public var header: InferRequestHeader
        public var binaryInputs: [String: ByteBuffer]
    }

    /// A decoded response: the header, and the raw bytes of each output that travelled as binary.
    public struct Response: Sendable {
        public var header: InferResponseHeader
        public var binaryOutputs: [String: ByteBuffer]
    }

    public static func decodeRequest(_ body: ByteBuffer, headerLength: Int?) throws -> Request {
        let (json, rest) = try split(body, headerLength: headerLength)
        let header: InferRequestHeader
        do {
            header = try JSONDecoder().decode(InferRequestHeader.self, from: json)
        } catch {
            throw FormatError("the request's JSON header could not be read: \(describe(error))")
        }
        let slices = try slice(rest, sizes: header.inputs.map { ($0.name, $0.binaryDataSize) })
        return Request(header: header, binaryInputs: slices)
    }

    public static func decodeResponse(_ body: ByteBuffer, headerLength: Int?) throws -> Response {
        let (json, rest) = try split(body, headerLength: headerLength)
        let header: InferResponseHeader
        do {
            header = try JSONDecoder().decode(InferResponseHeader.self, from: json)
        } catch {
            throw FormatError("the response's JSON header could not be read: \(describe(error))")
        }
        let slices = try slice(rest, sizes: header.outputs.map { ($0.name, $0.binaryDataSize) })
        return Response(header: header, binaryOutputs: slices)
    }

    static func split(_ body: ByteBuffer, headerLength: Int?) throws -> (Data, ByteBuffer) {
        var body = body
        let length = headerLength ?? body.readableBytes
        guard length >= 0, length <= body.readableBytes,
              let jsonBytes = body.readBytes(length: length) else {
            throw FormatError("\(BinaryTensorHeader.headerContentLength) \(length) exceeds the body's \(body.readableBytes) bytes")
        }
        return (Data(jsonBytes), body)
    }

    static func slice(_ rest: ByteBuffer, sizes: [(String, Int?)]) throws -> [String: ByteBuffer] {
        var rest = rest
        var slices: [String: ByteBuffer] = [:]
        for (name, size) in sizes {
            guard let size else { continue }
            guard size >= 0, let bytes = rest.readSlice(length: size) else {
                throw FormatError("tensor '\(name)' declares \(size) binary bytes but only \(rest.readableBytes) remain")
            }
            slices[name] = bytes
        }
        return slices
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(key.stringValue)' at \(path(context.codingPath))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default:
            return String(describing: error)
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
