import Foundation
import KServeProtocol
import NIOCore

/// One unit of concurrency against an OpenAI-compatible server: a keep-alive HTTP/1.1
/// connection with one request in flight. A streamed answer (`text/event-stream`) is read event
/// by event, each timestamped as its bytes arrive and kept in the slot's `ResponseLog`; it ends
/// at `data: [DONE]`. A plain JSON answer is one response.
///
/// Confined to `eventLoop`, like `HTTPSlot`.
final class OpenAISlot: SlotCore, ConcurrencySlot, @unchecked Sendable {
    private enum State {
        case disconnected
        case connecting
        case idle
        case inFlight
    }

    private let address: ServerAddress
    private let tls: ClientTLS?
    private let requests: [PreparedRequest]
    private let connectTimeoutMs: Int

    @exclusivity(unchecked) private var state = State.disconnected
    @exclusivity(unchecked) private var handler: OpenAIConnectionHandler?
    @exclusivity(unchecked) private var record = RequestRecord(ticket: SendTicket(request: 0), startNs: 0, batchSize: 0)
    /// Every event of the answer in flight (times always; bodies for the export); reused.
    private let responses: ResponseLog
    /// When the bytes being read arrived.
    @exclusivity(unchecked) private var readNs: UInt64 = 0
    /// The answer in flight sent `data: [DONE]`.
    @exclusivity(unchecked) private var sawDone = false
    /// Arrival of its last event before `[DONE]`: where a streamed request's latency ends.
    @exclusivity(unchecked) private var lastEventNs: UInt64 = 0
    /// `--session-concurrency`: the feed builds each turn's request as it goes.
    private let sessions: ChatSessionFeed?
    /// The answer ended in this wake-up and its record waits for the loop's pass of sends
    /// (`LoopSendQueue`) to reach the sinks: handing a streamed record over (its gaps, its
    /// events for the export) takes several µs, and done inside the read it would delay the
    /// reads, and so the times, of the other streams' events of the same wake-up.
    @exclusivity(unchecked) private var settling = false

    init(placement: SlotPlacement, address: ServerAddress, tls: ClientTLS?, requests: [PreparedRequest], connectTimeoutMs: Int) {
        precondition(!requests.isEmpty)
        self.address = address
        self.tls = tls
        self.requests = requests
        self.connectTimeoutMs = connectTimeoutMs
        responses = ResponseLog(keepsBodies: placement.sinks.keepsResponseBodies)
        sessions = placement.feed as? ChatSessionFeed
        super.init(placement: placement)
    }

    var keepsBodies: Bool { responses.keepsBodies }

    override func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        state = .connecting
        return HTTPLoadConnection.open(on: eventLoop, address: address, tls: tls, connectTimeoutMs: connectTimeoutMs) {
            OpenAIConnectionHandler(slot: self)
        }.flatMapErrorThrowing { error in
            self.state = .disconnected
            throw error
        }
    }

    override func resume() {
        pump()
    }

    override var isBusy: Bool { state == .inFlight || settling }

    override var awaitingSinceNs: UInt64 { state == .inFlight ? max(record.startNs, responses.timesNs.last ?? 0) : 0 }

    override func closeConnection() {
        handler?.close()
    }

    func pump() {
        settle()
        guard maySend, state == .idle, let handler else { return }
        guard let next = nextTicket() else { return }
        state = .inFlight
        responses.reset()
        sawDone = false
        lastEventNs = 0
        firstReadNs = 0
        beginRecord(next, batchSize: 1, in: &record)
        record.responses = responses
        if let sessions, let built = sessions.pendingRequest {
            record.sentInputs = sessions.pendingInputs
            handler.write(built)
        } else {
            handler.write(requests[next.request].bytes)
        }
        record.sentNs = MonotonicClock.now()
    }

    // MARK: Events from the connection handler

    func connectionReady(_ handler: OpenAIConnectionHandler) {
        self.handler = handler
        state = .idle
        pump()
    }

    /// The answer's first bytes arrived (its head, usually before any event of a stream).
    @exclusivity(unchecked) private var firstReadNs: UInt64 = 0

    @inline(__always)
    func bytesArrived() {
        readNs = MonotonicClock.now()
        if state == .inFlight, firstReadNs == 0 { firstReadNs = readNs }
    }

    /// One event of a streamed answer: its text (for the export) and its data.
    func eventArrived(text: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) {
        guard state == .inFlight else { return }
        let index = responses.timesNs.count
        if OpenAIChunkFacts.isDone(data) {
            if !sawDone {
                sawDone = true
                responses.append(atNs: readNs, copying: text, carriesContent: false)
            }
            return
        }
        if sawDone, record.succeeded {
            record.outcome = .protocolError("the server sent an event after data: [DONE]")
        }
        lastEventNs = readNs
        // As perf_analyzer times it: receiving starts with the first event, not the head.
        if record.firstResponseNs == 0 { record.firstResponseNs = readNs }
        record.responseCount += 1
        let facts = OpenAIChunkFacts.scan(data)
        responses.append(atNs: readNs, copying: text, carriesContent: facts.carriesContent)
        note(facts, json: data, at: readNs, event: index)
    }

    /// Folds one answer's facts into the record: content, the usage count, an error.
    private func note(_ facts: OpenAIChunkFacts, json: UnsafeRawBufferPointer, at timeNs: UInt64, event: Int?) {
        if facts.carriesContent {
            if record.tokens.contentEvents == 0 { record.tokens.firstContentNs = timeNs }
            record.tokens.contentEvents += 1
            record.tokens.lastContentNs = timeNs
        }
        if let tokens = facts.completionTokens { record.tokens.usageTokens = tokens }
        guard record.succeeded, facts.malformedAt != nil || facts.isError else { return }
        let place = event.map { "event \($0 + 1) of the stream" } ?? "the answer"
        if let offset = facts.malformedAt {
            record.outcome = .protocolError("\(place) is not JSON (at byte \(offset)): \(Self.excerpt(json))")
        } else if facts.isError {
            let message = facts.errorMessage.map { Self.unescaped(UnsafeRawBufferPointer(rebasing: json[$0])) }
            record.outcome = .serverError("the server sent an error in \(place): \(message ?? Self.excerpt(json))")
        }
    }

    func responseComplete(_ frame: HTTPResponseFrame) {
        let endNs = MonotonicClock.now()
        guard state == .inFlight else { return }
        state = .idle
        if record.firstResponseNs == 0 { record.firstResponseNs = firstReadNs != 0 ? firstReadNs : endNs }
        if frame.status != 200 {
            record.endNs = endNs
            record.outcome = .serverError(Self.errorText(status: frame.status, body: frame.body))
        } else if frame.eventStream {
            record.tokens.streamed = true
            record.endNs = lastEventNs != 0 ? lastEventNs : endNs
            if !sawDone, record.succeeded {
                record.outcome = .protocolError("the event stream ended without data: [DONE] after \(record.responseCount) events")
            }
        } else {
            record.endNs = endNs
            record.responseCount = 1
            let body = frame.body ?? ByteBuffer()
            body.withUnsafeReadableBytes { json in
                if json.isEmpty {
                    record.outcome = .protocolError("the server answered 200 with an empty body")
                    return
                }
                note(OpenAIChunkFacts.scan(json), json: json, at: endNs, event: nil)
            }
            responses.append(atNs: endNs, body: body,
                             carriesContent: record.tokens.contentEvents > 0)
        }
        if let sessions, record.succeeded, let failure = sessions.answered(frame.eventStream ? nil : frame.body) {
            record.outcome = .protocolError(failure)
        }
        if frame.connectionClose {
            finish(&record)
            handler?.close()
            return
        }
        settling = true
        sendSoon()
    }

    /// Hands the ended answer's record to the sinks (see `settling`).
    private func settle() {
        guard settling else { return }
        settling = false
        finish(&record)
        becameIdle()
    }

    func connectionClosed(error: Error?, midEvent: Bool) {
        settle()
        var abandoned: RequestRecord?
        if state == .inFlight {
            abandoned = record
        }
        state = .disconnected
        handler = nil
        let events = record.responseCount
        let what: String
        if let error {
            what = "\(error)"
        } else if events > 0 || midEvent {
            what = "the server closed the connection mid-stream after \(events) events\(midEvent ? " and part of another" : ""), without data: [DONE]"
        } else {
            what = "the server closed the connection"
        }
        connectionEnded(abandoning: abandoned, failure: "request to \(address) failed: \(what)")
    }

    /// An OpenAI-style error body's message, else the status and the body's start.
    static func errorText(status: Int, body: ByteBuffer?) -> String {
        guard let body, body.readableBytes > 0 else { return "HTTP \(status)" }
        return body.withUnsafeReadableBytes { json in
            let facts = OpenAIChunkFacts.scan(json)
            if facts.malformedAt == nil, facts.isError, let message = facts.errorMessage {
                return "HTTP \(status): \(unescaped(UnsafeRawBufferPointer(rebasing: json[message])))"
            }
            return "HTTP \(status): \(excerpt(json))"
        }
    }

    /// A JSON string's contents with its escapes decoded (error messages only).
    static func unescaped(_ contents: UnsafeRawBufferPointer) -> String {
        let raw = String(decoding: contents, as: UTF8.self)
        return (try? JSONDecoder().decode(String.self, from: Data(("\"" + raw + "\"").utf8))) ?? raw
    }

    static func excerpt(_ bytes: UnsafeRawBufferPointer, limit: Int = 200) -> String {
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, limit)]), as: UTF8.self)
        return bytes.count > limit ? text + "..." : text
    }
}

/// The channel side of an `OpenAISlot`: frames responses, splits event streams into events.
final class OpenAIConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let slot: OpenAISlot
    @exclusivity(unchecked) private var reader: HTTPAnswerReader
    @exclusivity(unchecked) private var events = ServerSentEventScanner()
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    private var closeReason: Error?

    init(slot: OpenAISlot) {
        self.slot = slot
        // Non-streamed answers are read whole: their usage block and, for the export, their text.
        reader = HTTPAnswerReader(framer: HTTPResponseFramer(keepSuccessfulBodies: true))
        // The handler owns the framer that holds this closure, so the closure cannot outlive it;
        // unowned(unsafe) spares a reference count per read.
        reader.framer.eventStreamBody = { [unowned(unsafe) self] bytes in
            self.events.feed(bytes) { text, data in self.slot.eventArrived(text: text, data: data) }
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        reader.framer.eventStreamBody = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        slot.connectionReady(self)
        context.fireChannelActive()
    }

    @inline(__always)
    func write(_ bytes: ByteBuffer) {
        events.reset()
        context?.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        slot.bytesArrived()
        do {
            try reader.read(unwrapInboundIn(data)) { slot.responseComplete($0) }
        } catch {
            closeReason = error
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let frame = reader.endOfStream() { slot.responseComplete(frame) }
        slot.connectionClosed(error: closeReason, midEvent: events.isInsideEvent)
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil { closeReason = error }
        context.close(promise: nil)
    }
}
