import KServeProtocol
import NIOCore

/// The request-level parameters that tie a request to its sequence (`sequence_id`,
/// `sequence_start`, `sequence_end`), in each protocol's wire form. Added to a prepared
/// request as it goes out: the ID changes with every sequence, the data does not.
enum SequenceParameters {
    /// The flags as members of the request's `parameters` object.
    static func jsonMembers(_ mark: SequenceMark) -> String {
        "\"sequence_end\":\(mark.end),\"sequence_id\":\(mark.id),\"sequence_start\":\(mark.start)"
    }

    /// Entries of `ModelInferRequest.parameters` (field 4, a map of `InferParameter`), to append
    /// to a serialized request: protobuf merges map entries that follow the rest of a message.
    static func protobufEntries(_ mark: SequenceMark) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(80)
        // sequence_id as int64_param (field 2), the flags as bool_param (field 1), as Triton's client sends them.
        appendEntry("sequence_id", value: [0x10] + varint(mark.id), to: &bytes)
        appendEntry("sequence_start", value: [0x08, mark.start ? 1 : 0], to: &bytes)
        appendEntry("sequence_end", value: [0x08, mark.end ? 1 : 0], to: &bytes)
        return bytes
    }

    private static func appendEntry(_ key: String, value: [UInt8], to bytes: inout [UInt8]) {
        let keyBytes = Array(key.utf8)
        var entry: [UInt8] = [0x0A, UInt8(keyBytes.count)] + keyBytes
        entry += [0x12, UInt8(value.count)] + value
        bytes += [0x22] + varint(UInt64(entry.count)) + entry
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    /// A serialized gRPC request with the sequence entries appended.
    static func grpcBody(_ body: ByteBuffer, mark: SequenceMark) -> ByteBuffer {
        let entries = protobufEntries(mark)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(body.readableBytes + entries.count)
        buffer.writeImmutableBuffer(body)
        buffer.writeBytes(entries)
        return buffer
    }
}

/// An HTTP/1.1 inference request in pieces, so the sequence parameters can be put into its
/// JSON header (which changes both lengths in the head) without encoding anything again.
/// The tensors' bytes are not part of it: they are the tail of the prepared request, so one
/// template serves every request of the same layout.
struct HTTPRequestTemplate: Sendable {
    /// Request line and fixed fields, up to the length fields.
    var headStart: String
    /// Custom header fields and the blank line.
    var headEnd: String
    /// The JSON header without its opening brace.
    var jsonAfterBrace: [UInt8]
    /// How many bytes of tensors follow the JSON header.
    var binaryCount: Int
    /// `--request-parameter` members of the `parameters` object (`"a":1,"b":"x"`), or "".
    var requestParameters = ""

    /// `prepared` (a request made from this template) with the sequence parameters when `mark` is given.
    func render(_ mark: SequenceMark?, from prepared: ByteBuffer) -> ByteBuffer {
        let binary = prepared.getSlice(at: prepared.readerIndex + prepared.readableBytes - binaryCount, length: binaryCount)!
        var buffer = ByteBuffer()
        writeHead(mark, binaryCount: binaryCount, into: &buffer)
        buffer.writeImmutableBuffer(binary)
        return buffer
    }

    /// Writes everything before the tensors' bytes (the HTTP head and the JSON header), with room
    /// reserved for the tensors.
    func writeHead(_ mark: SequenceMark?, binaryCount: Int, into buffer: inout ByteBuffer) {
        // The sequence's own members last: a parser that keeps the last of a repeated key keeps them.
        let members = [requestParameters, mark.map(SequenceParameters.jsonMembers) ?? ""].filter { !$0.isEmpty }
        let member = members.isEmpty ? "" : "\"parameters\":{" + members.joined(separator: ",") + "},"
        let jsonCount = 1 + member.utf8.count + jsonAfterBrace.count
        var head = headStart
        if binaryCount > 0 { head += "\(BinaryTensorHeader.headerContentLength): \(jsonCount)\r\n" }
        head += "Content-Length: \(jsonCount + binaryCount)\r\n"
        head += headEnd
        buffer.reserveCapacity(buffer.writerIndex + head.utf8.count + jsonCount + binaryCount)
        buffer.writeString(head)
        buffer.writeInteger(UInt8(ascii: "{"))
        buffer.writeString(member)
        buffer.writeBytes(jsonAfterBrace)
    }
}
