import NIOCore
import NIOPosix
import KServeProtocol
import Foundation

/// One unit of concurrency over HTTP/1.1: a keep-alive connection that keeps exactly one
/// request outstanding while it is active, sending the next prepared request the moment
/// a response ends.
///
/// Confined to `eventLoop`: every method runs there (the driver hops with `submit`).
final class HTTPSlot: SlotCore, ConcurrencySlot, @unchecked Sendable {
    private enum State {
        case disconnected
        case connecting
        case idle
        case inFlight
    }

    private let address: ServerAddress
    private let tls: ClientTLS?
    private let requests: [PreparedRequest]
    /// What a send takes from each prepared request, kept apart so a send copies no request.
    private let sendBytes: [ByteBuffer]
    private let batchSizes: [Int]
    private let hasTemplates: Bool
    /// Whether any prepared request carries outputs to validate answers against.
    private let hasExpectations: Bool
    private let connectTimeoutMs: Int

    @exclusivity(unchecked) private var state = State.disconnected
    @exclusivity(unchecked) private var handler: InferConnectionHandler?

    /// The request in flight while `state` is `.inFlight` (the last one otherwise): filled in
    /// place, so the send/receive path copies no record.
    @exclusivity(unchecked) private var record = RequestRecord(ticket: SendTicket(request: 0), startNs: 0, batchSize: 0)
    /// Whether successful responses are read in full: to validate their outputs, or for a sink.
    let keepsBodies: Bool

    init(placement: SlotPlacement, address: ServerAddress, tls: ClientTLS?, requests: [PreparedRequest], connectTimeoutMs: Int = 30_000) {
        precondition(!requests.isEmpty)
        self.connectTimeoutMs = connectTimeoutMs
        self.address = address
        self.tls = tls
        self.requests = requests
        sendBytes = requests.map(\.bytes)
        batchSizes = requests.map(\.batchSize)
        hasTemplates = requests.contains { $0.template != nil }
        hasExpectations = requests.contains { $0.expected != nil }
        keepsBodies = placement.sinks.keepsResponseBodies || hasExpectations
        super.init(placement: placement)
    }

    /// Opens the connection; the future completes once it is ready to send.
    override func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        state = .connecting
        return HTTPLoadConnection.open(on: eventLoop, address: address, tls: tls, connectTimeoutMs: connectTimeoutMs) {
            InferConnectionHandler(slot: self)
        }.flatMapErrorThrowing { error in
            self.state = .disconnected
            throw error
        }
    }

    override func resume() {
        pump()
    }

    override var isBusy: Bool { state == .inFlight }

    override var awaitingSinceNs: UInt64 { state == .inFlight ? record.startNs : 0 }

    override func closeConnection() {
        handler?.close()
    }

    /// Sends the next request if the slot is idle and active and its feed has one.
    func pump() {
        guard let handler else { return }
        pump(through: handler)
    }

    /// `pump()` through the slot's handler, which the caller holds (no reference to count).
    @inline(__always)
    private func pump(through handler: InferConnectionHandler) {
        guard maySend, state == .idle else { return }
        guard let next = nextTicket() else { return }
        let index = next.request
        state = .inFlight
        beginRecord(next, batchSize: batchSizes[index], in: &record)
        if hasTemplates, let mark = next.sequence, let template = requests[index].template {
            handler.write(template.render(mark, from: requests[index].bytes))
        } else {
            handler.write(sendBytes[index])
        }
        // NIO writes to the socket inside writeAndFlush when it can, so this marks the end of sending.
        record.sentNs = MonotonicClock.now()
    }

    // MARK: Events from the connection handler

    func connectionReady(_ handler: InferConnectionHandler) {
        self.handler = handler
        state = .idle
        pump()
    }

    /// Bytes were read at `nowNs` (one clock read per read serves both this and the end).
    @inline(__always)
    func bytesArrived(atNs nowNs: UInt64) {
        if state == .inFlight, record.firstResponseNs == 0 { record.firstResponseNs = nowNs }
    }

    /// A response ended with the bytes read at `endNs`, on `handler`'s connection.
    func responseComplete(_ frame: HTTPResponseFrame, atNs endNs: UInt64, on handler: InferConnectionHandler) {
        guard state == .inFlight else { return }
        state = .idle
        record.endNs = endNs
        record.responseCount = 1
        if record.firstResponseNs == 0 { record.firstResponseNs = endNs }
        if frame.status == 200, let problem = frame.answerProblem {
            record.outcome = .protocolError("the server answered 200 with something that is not an inference response: \(problem)")
        } else if frame.status == 200 {
            if hasExpectations, let expected = requests[record.request].expected,
               let mismatch = ResponseValidator.mismatch(body: frame.body ?? ByteBuffer(), inferenceHeaderLength: frame.inferenceHeaderLength,
                                                         expected: expected) {
                record.outcome = .validationFailure(mismatch)
            }
            if sinks.keepsResponseBodies {
                record.body = frame.body
                record.bodyHeaderLength = frame.inferenceHeaderLength
            }
        } else {
            record.outcome = .serverError(Self.errorText(status: frame.status, body: frame.body))
        }
        finish(&record)
        record.body = nil
        if frame.connectionClose {
            handler.close()
            return
        }
        becameIdle()
        // The next request goes at once: the answers read after it in this wake-up keep the
        // wake-up's time (`LoopWakeClock`), so the send does not lengthen their latencies.
        if self.handler === handler { pump(through: handler) }
    }

    func connectionClosed(error: Error?) {
        let abandoned = state == .inFlight ? record : nil
        state = .disconnected
        handler = nil
        connectionEnded(abandoning: abandoned,
                        failure: "request to \(address) failed: \(error.map { "\($0)" } ?? "the server closed the connection")")
    }

    static func errorText(status: Int, body: ByteBuffer?) -> String {
        if let body, let data = body.getBytes(at: body.readerIndex, length: body.readableBytes),
           let decoded = try? JSONDecoder().decode(ErrorResponse.self, from: Data(data)) {
            return decoded.error
        }
        let text = body.map { String(buffer: $0) } ?? ""
        return text.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(text.prefix(500))"
    }
}

/// The channel side of a slot: frames responses and reports them to the slot.
final class InferConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let slot: HTTPSlot
    private let wakeClock: LoopWakeClock
    /// The wake-up of the loop this channel last read in (`LoopWakeClock`).
    @exclusivity(unchecked) private var lastWake: UInt64 = 0
    @exclusivity(unchecked) private var reader: HTTPAnswerReader
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    private var closeReason: Error?

    init(slot: HTTPSlot) {
        self.slot = slot
        wakeClock = slot.wakeClock
        // Bodies of successful responses are skipped unless they are validated or exported.
        reader = HTTPAnswerReader(framer: HTTPResponseFramer(keepSuccessfulBodies: slot.keepsBodies, checksAnswers: true))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        slot.connectionReady(self)
        context.fireChannelActive()
    }

    @inline(__always)
    func write(_ bytes: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let nowNs = wakeClock.arrivalNs(channelWake: &lastWake)
        slot.bytesArrived(atNs: nowNs)
        do {
            try reader.read(unwrapInboundIn(data)) { slot.responseComplete($0, atNs: nowNs, on: self) }
        } catch {
            closeReason = error
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let frame = reader.endOfStream() { slot.responseComplete(frame, atNs: MonotonicClock.now(), on: self) }
        slot.connectionClosed(error: closeReason)
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil { closeReason = error }
        context.close(promise: nil)
    }
}
