import GRPCCore
import KServeGRPC
import KServeProtocol
import NIOCore
import SwiftProtobuf

/// A prepared request on its way out, with the stream request id when it has one.
struct OutgoingInferRequest: Sendable {
    var body: ByteBuffer
    /// Appended as field 3 (`id`) when non-zero; protobuf lets a later field win, and
    /// appending keeps the prepared bytes untouched.
    var id: UInt64 = 0
}

/// Copies the prepared bytes into gRPC's buffer (no protobuf work on the send path).
struct PreparedRequestSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: OutgoingInferRequest) throws -> Bytes {
        // The id field: tag (field 3, length-delimited), length, decimal digits.
        let idField: [UInt8] = message.id == 0 ? [] : {
            let digits = Array(String(message.id).utf8)
            return [0x1A, UInt8(digits.count)] + digits
        }()
        let bodyCount = message.body.readableBytes
        var bytes = Bytes(repeating: 0, count: bodyCount + idField.count)
        bytes.withUnsafeMutableBytes { target in
            message.body.withUnsafeReadableBytes { target.copyMemory(from: $0) }
            idField.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: target[bodyCount...]).copyMemory(from: $0) }
        }
        return bytes
    }
}

/// What the load path keeps of a streamed response: its summary, the decoded response when
/// its outputs are validated, and its bytes when a sink wants them.
struct StreamedInferResponse: Sendable {
    var summary: GRPCResponseScanner.Summary
    var decoded: Inference_ModelInferResponse?
    /// The serialized `ModelStreamInferResponse`.
    var bytes: ByteBuffer?
}

struct StreamResponseDeserializer: MessageDeserializer {
    let decodes: Bool
    let keepsBytes: Bool

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> StreamedInferResponse {
        try serializedMessageBytes.withUnsafeBytes { raw in
            let summary = try GRPCResponseScanner.scanStreamResponse(raw)
            let bytes = keepsBytes ? ByteBuffer(bytes: raw) : nil
            guard decodes, summary.errorMessage == nil, summary.hasOutputs else {
                return StreamedInferResponse(summary: summary, decoded: nil, bytes: bytes)
            }
            return StreamedInferResponse(summary: summary, decoded: try Inference_ModelStreamInferResponse(serializedBytes: raw).inferResponse,
                                         bytes: bytes)
        }
    }
}
