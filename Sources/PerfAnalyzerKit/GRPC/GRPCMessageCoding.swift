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

/// Copies the prepared bytes into gRPC's buffer (no protobuf work on the send path) and
/// notes how long that took, the call's marshalling in the client-side time split.
struct PreparedRequestSerializer: MessageSerializer {
    let timing: RequestTiming

    func serialize<Bytes: GRPCContiguousBytes>(_ message: OutgoingInferRequest) throws -> Bytes {
        let startNs = MonotonicClock.now()
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
        timing.marshalNs = MonotonicClock.now() &- startNs
        return bytes
    }
}

/// What the load path keeps of a streamed response: its summary, and the decoded
/// response when its outputs are validated.
struct StreamedInferResponse: Sendable {
    var summary: GRPCResponseScanner.Summary
    var decoded: Inference_ModelInferResponse?
}

struct StreamResponseDeserializer: MessageDeserializer {
    let decodes: Bool

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> StreamedInferResponse {
        try serializedMessageBytes.withUnsafeBytes { raw in
            let summary = try GRPCResponseScanner.scanStreamResponse(raw)
            guard decodes, summary.errorMessage == nil, summary.hasOutputs else {
                return StreamedInferResponse(summary: summary, decoded: nil)
            }
            return StreamedInferResponse(summary: summary, decoded: try Inference_ModelStreamInferResponse(serializedBytes: raw).inferResponse)
        }
    }
}

/// The duration the serializer leaves for the slot that owns it. Written and read on the
/// slot's event loop only (its task prefers that loop).
final class RequestTiming: @unchecked Sendable {
    var marshalNs: UInt64 = 0
}
