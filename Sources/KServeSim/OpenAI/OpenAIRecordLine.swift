import KServeProtocol

/// The `--record` line of one OpenAI request, written when its answer is settled (just before
/// its last bytes go out, or when its client left): what came in, what went out, and when.
struct OpenAIRecordLine {
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

    /// The line as JSON, keys sorted, absent values left out (as `JSONEncoder` with sorted keys
    /// wrote it). Written by hand: it is written on the connection's loop at the end of every
    /// answer, and the encoder took about 40 µs there, time the loop's other requests waited.
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.utf8.count + 512)
        var first = true
        func key(_ name: StaticString) {
            out.append(UInt8(ascii: first ? "{" : ","))
            first = false
            name.withUTF8Buffer { JSONText.appendQuoted(UnsafeRawBufferPointer($0), to: &out) }
            out.append(UInt8(ascii: ":"))
        }
        func number(_ name: StaticString, _ value: (some FixedWidthInteger)?) {
            guard let value else { return }
            key(name)
            JSONText.appendDecimal(value, to: &out)
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONText.appendQuoted(value.utf8, to: &out)
        }
        func flag(_ name: StaticString, _ value: Bool) {
            key(name)
            out.append(contentsOf: (value ? "true" : "false").utf8)
        }
        number("arrived_ns", arrivedNs)
        string("body", body)
        string("endpoint", endpoint)
        string("fault", fault)
        number("first_token_ns", firstTokenNs)
        key("headers")
        out.append(UInt8(ascii: "{"))
        for (index, name) in headers.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(name.utf8, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONText.appendQuoted(headers[name]!.utf8, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        number("last_token_ns", lastTokenNs)
        string("model", model)
        number("prompt_tokens", promptTokens)
        number("status", status)
        flag("stream", stream)
        flag("succeeded", succeeded)
        number("time_ns", timeNs)
        number("tokens_sent", tokensSent)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
