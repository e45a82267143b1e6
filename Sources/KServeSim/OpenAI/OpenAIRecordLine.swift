/// The `--record` line of one OpenAI request, written when its answer is settled (just before
/// its last bytes go out, or when its client left): what came in, what went out, and when.
struct OpenAIRecordLine: Encodable {
    /// The path asked for, e.g. `/v1/chat/completions`.
    var endpoint: String
    /// The body's `model` field, when there was one.
    var model: String?
    /// The request body exactly as received, as a string (it may not even be JSON).
    var body: String
    var stream: Bool
    /// Words of the prompt; absent when the body was refused.
    var promptTokens: Int?
    /// Tokens written to the client: content events of a stream, or all of a whole answer.
    var tokensSent: Int
    /// The HTTP status sent; absent when nothing was (a stalled request, or a client that left first).
    var status: Int?
    /// Answered completely and correctly.
    var succeeded: Bool
    /// From the request body being read to the first and the last token written, in ns.
    var firstTokenNs: UInt64?
    var lastTokenNs: UInt64?
    /// When the request's body was read, on the monotonic clock in ns (as the KServe lines' `time_ns`).
    var timeNs: UInt64
    /// When the request's first bytes reached the server, by its event loop's wake-up (`ArrivalStamp`),
    /// on the same clock: `time_ns` minus this is the time it waited behind the other requests the loop
    /// read and answered first. Absent when unknown.
    var arrivedNs: UInt64?
    /// The fault mode that changed the answer; absent for requests answered normally.
    var fault: String?
    /// The HTTP headers of the request, names lowercased.
    var headers: [String: String]

    enum CodingKeys: String, CodingKey {
        case endpoint, model, body, stream, status, succeeded, fault, headers
        case promptTokens = "prompt_tokens"
        case tokensSent = "tokens_sent"
        case firstTokenNs = "first_token_ns"
        case lastTokenNs = "last_token_ns"
        case timeNs = "time_ns"
        case arrivedNs = "arrived_ns"
    }
}
