/// Reads the few fields the load path needs from a serialized `ModelStreamInferResponse`
/// (or `ModelInferResponse`) without decoding the message: the error text, whether the
/// response carries outputs, and Triton's final-response marker. Output tensors are
/// skipped over, so a streamed response costs no allocation unless it failed.
struct GRPCResponseScanner {
    /// Request parameter that asks Triton to flag the last response of a decoupled request.
    static let enableFinalResponseParameter = "triton_enable_empty_final_response"
    /// Response parameter carrying that flag.
    static let finalResponseParameter = "triton_final_response"

    struct Summary: Equatable {
        var errorMessage: String?
        /// Whether the response holds output tensors (Triton's empty final response does not).
        var hasOutputs = false
        /// The value of `triton_final_response`, nil when absent.
        var isFinal: Bool?
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String { "the server sent a response that is not a valid ModelInferResponse" }
    }

    /// A `ModelStreamInferResponse`: field 1 error_message, field 2 infer_response.
    static func scanStreamResponse(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Summary {
        var summary = Summary()
        var reader = Reader(bytes: bytes)
        while let (field, wireType) = try reader.nextTag() {
            switch (field, wireType) {
            case (1, 2):
                let text = try reader.lengthDelimited()
                if text.count > 0 { summary.errorMessage = String(decoding: text, as: UTF8.self) }
            case (2, 2):
                try scanInferResponse(try reader.lengthDelimited(), into: &summary)
            default:
                try reader.skip(wireType)
            }
        }
        return summary
    }

    /// A `ModelInferResponse`: field 4 parameters, 5 outputs, 6 raw_output_contents.
    static func scanInferResponse(_ bytes: UnsafeRawBufferPointer, into summary: inout Summary) throws(Malformed) {
        var reader = Reader(bytes: bytes)
        while let (field, wireType) = try reader.nextTag() {
            switch (field, wireType) {
            case (4, 2):
                if let flag = try finalFlag(inParameterEntry: try reader.lengthDelimited()) { summary.isFinal = flag }
            case (5, 2), (6, 2):
                _ = try reader.lengthDelimited()
                summary.hasOutputs = true
            default:
                try reader.skip(wireType)
            }
        }
    }

    /// A map entry `{1: key, 2: InferParameter}`; the bool when the key is the final marker.
    private static func finalFlag(inParameterEntry bytes: UnsafeRawBufferPointer) throws(Malformed) -> Bool? {
        var reader = Reader(bytes: bytes)
        var isFinalKey = false
        var value: Bool?
        while let (field, wireType) = try reader.nextTag() {
            switch (field, wireType) {
            case (1, 2):
                let key = try reader.lengthDelimited()
                isFinalKey = key.elementsEqual(finalResponseParameter.utf8)
            case (2, 2):
                var parameter = Reader(bytes: try reader.lengthDelimited())
                while let (inner, innerType) = try parameter.nextTag() {
                    if inner == 1, innerType == 0 { value = try parameter.varint() != 0 } else { try parameter.skip(innerType) }
                }
            default:
                try reader.skip(wireType)
            }
        }
        return isFinalKey ? (value ?? false) : nil
    }

    /// Protobuf wire-format reading over borrowed bytes.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func nextTag() throws(Malformed) -> (Int, Int)? {
            guard offset < bytes.count else { return nil }
            let tag = try varint()
            return (Int(tag >> 3), Int(tag & 7))
        }

        mutating func varint() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            throw Malformed()
        }

        mutating func lengthDelimited() throws(Malformed) -> UnsafeRawBufferPointer {
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else { throw Malformed() }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
            offset += Int(length)
            return slice
        }

        mutating func skip(_ wireType: Int) throws(Malformed) {
            switch wireType {
            case 0: _ = try varint()
            case 1: try advance(8)
            case 2: _ = try lengthDelimited()
            case 5: try advance(4)
            default: throw Malformed()
            }
        }

        private mutating func advance(_ count: Int) throws(Malformed) {
            guard bytes.count - offset >= count else { throw Malformed() }
            offset += count
        }
    }
}
