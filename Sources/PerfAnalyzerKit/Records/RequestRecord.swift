import NIOCore

/// One request, from the moment a slot takes it until its answer is complete: filled the same
/// way by every slot, whatever the protocol, and handed once to its event loop's sinks.
///
/// The times are monotonic nanoseconds and mean the same for every protocol:
/// - `intendedNs`: when a schedule (request rate, intervals) meant the request to go; 0 in
///   concurrency mode, where a request goes when the previous one ends.
/// - `startNs`: the slot hands the prepared request to its connection.
/// - `sentNs`: the request is written. HTTP/1.1 and uncompressed gRPC (unary or streamed): the
///   write into the socket returned; grpc-swift (compressed calls, periodic concurrency's
///   streams): the message was handed to its transport.
/// - `firstResponseNs`: the first byte of the answer (HTTP/1.1), or of its response message
///   (gRPC: the first DATA frame, or the message on a stream), arrived. HTTP/1.1 load slots
///   take the time their loop woke with the bytes ready (`LoopWakeClock`), not the time the
///   loop came to read them.
/// - `endNs`: the answer is complete: the HTTP body, the gRPC status, or the response that
///   ends a streamed request (a decoupled model's final one).
///
/// From them: **send** is `sentNs - startNs`, **receive** `endNs - firstResponseNs`, and
/// **response wait** the latency less both. Latency is `endNs - startNs`, except for a decoupled
/// model, whose latency is to its first response (perf_analyzer's rule) and whose later
/// responses have no single receive to split.
struct RequestRecord: Sendable {
    /// What was sent: the prepared request's index, its intended time and its sequence flags.
    var ticket: SendTicket
    var startNs: UInt64
    var sentNs: UInt64 = 0
    var firstResponseNs: UInt64 = 0
    var endNs: UInt64 = 0
    /// Inferences the request carried.
    var batchSize: Int
    /// Responses received: 1 for a unary answer, any number for a decoupled model.
    var responseCount = 0
    /// Every response of a streamed answer, when the slot keeps them (its own buffers, reused
    /// from request to request); nil for a unary answer, whose one response ends at `endNs`.
    var responses: ResponseLog? = nil
    /// A unary answer's body, kept only when validating or when a sink asks for bodies.
    var body: ByteBuffer? = nil
    /// HTTP: the length of the body's JSON header when binary tensor data follows it.
    var bodyHeaderLength: Int? = nil
    /// Whether latency is counted to the first response (decoupled models).
    var toFirstResponse = false
    /// What an OpenAI answer's responses carried, for the token metrics.
    var tokens = TokenTally()
    /// The export's `request_inputs` of a request built as it went (a chat session's turn);
    /// nil for prepared requests, whose inputs the export encoded once.
    var sentInputs: [UInt8]? = nil
    var outcome = RequestOutcome.success

    init(ticket: SendTicket, startNs: UInt64, batchSize: Int) {
        self.ticket = ticket
        self.startNs = startNs
        self.batchSize = batchSize
    }

    /// Makes this record the record of a new request starting at `startNs`, in place: the
    /// times, counts and flags are reset, and a reference is cleared only when the request
    /// before left one set, so a slot that reuses its record copies and releases nothing.
    @inline(__always)
    mutating func restart(ticket: SendTicket, startNs: UInt64, batchSize: Int) {
        self.ticket = ticket
        self.startNs = startNs
        self.batchSize = batchSize
        sentNs = 0
        firstResponseNs = 0
        endNs = 0
        responseCount = 0
        if responses != nil { responses = nil }
        if body != nil { body = nil }
        bodyHeaderLength = nil
        toFirstResponse = false
        tokens = TokenTally()
        if sentInputs != nil { sentInputs = nil }
        if case .success = outcome {} else { outcome = .success }
    }

    var request: Int { ticket.request }
    var intendedNs: UInt64 { ticket.intendedNs }
    var sequence: SequenceMark? { ticket.sequence }

    var succeeded: Bool { outcome == .success }

    /// The latency reports use: to the end, or to the first response for a decoupled model.
    var latencyNs: UInt64 {
        let first = firstResponseNs == 0 ? endNs : firstResponseNs
        return (toFirstResponse ? first : endNs) &- startNs
    }

    var sendNs: UInt64 { sentNs > startNs ? sentNs - startNs : 0 }

    var receiveNs: UInt64 {
        guard firstResponseNs != 0, endNs > firstResponseNs else { return 0 }
        return endNs - firstResponseNs
    }

    /// How long after its intended time the request went (0 when on time or unscheduled).
    var sendLagNs: UInt64 { intendedNs != 0 && startNs > intendedNs ? startNs - intendedNs : 0 }
}

/// How a request ended. Only failures carry text, so a success allocates nothing.
public enum RequestOutcome: Sendable, Equatable, CustomStringConvertible {
    case success
    /// The server answered with an error: an HTTP status, a gRPC status, an error response on a stream.
    case serverError(String)
    /// The connection was lost, reset or could not carry the request.
    case connectionError(String)
    /// The answer's outputs differ from the input data's validation data.
    case validationFailure(String)
    /// The answer broke the protocol: no gRPC status, a response with no request in flight.
    case protocolError(String)
    /// No answer within the request timeout (`RequestWatch`).
    case timedOut(String)

    public var description: String { failureText ?? "success" }

    /// The failure in words; nil on success.
    public var failureText: String? {
        switch self {
        case .success: return nil
        case .serverError(let text), .connectionError(let text), .validationFailure(let text), .protocolError(let text),
             .timedOut(let text): return text
        }
    }
}

/// The responses of one streamed request: when each arrived and, when kept, its body.
/// Owned by a stream slot and cleared for each request, so its storage is reused; confined to
/// the slot's event loop like the slot.
final class ResponseLog: @unchecked Sendable {
    /// Most responses whose times are kept per request; beyond it they are only counted.
    static let capacity = 1 << 16

    @exclusivity(unchecked) private(set) var timesNs: [UInt64] = []
    /// Per response: whether it carried generated content (OpenAI answers; false elsewhere).
    @exclusivity(unchecked) private(set) var carriesContent: [Bool] = []
    let keepsBodies: Bool
    /// The kept bodies of this request back to back, and where each ends: one buffer per
    /// request, not an allocation per response (a streamed answer can be hundreds of events).
    @exclusivity(unchecked) private var arena = ByteBuffer()
    @exclusivity(unchecked) private var bodyEnds: [Int] = []
    /// Slices of `arena` went to a sink, so the next request writes into a new buffer.
    @exclusivity(unchecked) private var arenaShared = false

    init(keepsBodies: Bool) {
        self.keepsBodies = keepsBodies
        timesNs.reserveCapacity(16)
    }

    func reset() {
        timesNs.removeAll(keepingCapacity: true)
        carriesContent.removeAll(keepingCapacity: true)
        guard keepsBodies else { return }
        if arenaShared {
            // Sized like the last request's bodies: the slices handed out keep the old one alive.
            arena = ByteBufferAllocator().buffer(capacity: max(256, arena.readableBytes))
            arenaShared = false
        } else {
            arena.clear()
        }
        bodyEnds.removeAll(keepingCapacity: true)
    }

    /// A response arrived at `timeNs`; its body, when kept, is copied from `body`.
    @inline(__always)
    func append(atNs timeNs: UInt64, copying body: UnsafeRawBufferPointer?, carriesContent content: Bool = false) {
        guard timesNs.count < Self.capacity else { return }
        timesNs.append(timeNs)
        carriesContent.append(content)
        if keepsBodies {
            if let body { arena.writeBytes(body) }
            bodyEnds.append(arena.writerIndex)
        }
    }

    @inline(__always)
    func append(atNs timeNs: UInt64, body: ByteBuffer?, carriesContent content: Bool = false) {
        guard let body, keepsBodies else {
            append(atNs: timeNs, copying: nil, carriesContent: content)
            return
        }
        body.withUnsafeReadableBytes { append(atNs: timeNs, copying: $0, carriesContent: content) }
    }

    /// The kept bodies in order of arrival, as slices of one buffer (no copy).
    func forEachBody(_ body: (ByteBuffer) -> Void) {
        guard keepsBodies else { return }
        var start = 0
        for end in bodyEnds {
            body(arena.getSlice(at: start, length: end - start) ?? ByteBuffer())
            start = end
        }
        if !bodyEnds.isEmpty { arenaShared = true }
    }
}

/// Why a run stopped with an error.
public enum RunFailure: Sendable, Equatable, CustomStringConvertible {
    /// A request failed.
    case request(RequestOutcome)
    /// Something around the requests failed: preparing a level, a statistics call.
    case setup(String)

    public var description: String {
        switch self {
        case .request(let outcome): return outcome.description
        case .setup(let text): return text
        }
    }
}
