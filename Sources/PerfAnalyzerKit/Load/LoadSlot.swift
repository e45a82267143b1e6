import NIOCore
import NIOPosix
import KServeProtocol
import Foundation

/// One unit of concurrency over HTTP/1.1: a keep-alive connection that keeps exactly one
/// request outstanding while it is active, sending the next prepared request the moment
/// a response ends.
///
/// Confined to `eventLoop`: every method runs there (the driver hops with `submit`).
final class LoadSlot: SlotCore, ConcurrencySlot, @unchecked Sendable {
    private enum State {
        case disconnected
        case connecting
        case idle
        case inFlight
    }

    private let address: ServerAddress
    private let tls: ClientTLS?
    private let requests: [PreparedRequest]

    private var state = State.disconnected
    private var handler: InferConnectionHandler?

    // Timestamps of the request in flight, monotonic ns.
    private var startNs: UInt64 = 0
    private var sendDoneNs: UInt64 = 0
    private var firstByteNs: UInt64 = 0
    private var ticket = SendTicket(request: 0)
    /// Whether responses must be read in full to validate their outputs.
    var validates: Bool { requests.contains { $0.expected != nil } }

    init(placement: SlotPlacement, address: ServerAddress, tls: ClientTLS?, requests: [PreparedRequest]) {
        precondition(!requests.isEmpty)
        self.address = address
        self.tls = tls
        self.requests = requests
        super.init(placement: placement)
    }

    /// Opens the connection; the future completes once it is ready to send.
    override func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        state = .connecting
        return ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = self.tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(address: self.address)) }
                    try channel.pipeline.syncOperations.addHandler(InferConnectionHandler(slot: self))
                }
            }
            .connect(host: address.host, port: address.port)
            .map { _ in () }
            .flatMapErrorThrowing { error in
                self.state = .disconnected
                throw ConnectionError(address: self.address, underlying: error)
            }
    }

    override func resume() {
        pump()
    }

    override var isBusy: Bool { state == .inFlight }

    override func closeConnection() {
        handler?.close()
    }

    /// Sends the next request if the slot is idle and active and its feed has one.
    func pump() {
        guard maySend, state == .idle, let handler else { return }
        guard let next = nextTicket() else { return }
        ticket = next
        let request = requests[next.request]
        state = .inFlight
        firstByteNs = 0
        startNs = MonotonicClock.now()
        if let mark = next.sequence, let template = request.template {
            handler.write(template.render(mark))
        } else {
            handler.write(request.bytes)
        }
        // NIO writes to the socket inside writeAndFlush when it can, so this marks the end of sending.
        sendDoneNs = MonotonicClock.now()
        noteSent(next, atNs: startNs)
    }

    // MARK: Events from the connection handler

    func connectionReady(_ handler: InferConnectionHandler) {
        self.handler = handler
        state = .idle
        pump()
    }

    @inline(__always)
    func bytesArrived() {
        if firstByteNs == 0, state == .inFlight { firstByteNs = MonotonicClock.now() }
    }

    func responseComplete(_ frame: HTTPResponseFrame) {
        let endNs = MonotonicClock.now()
        guard state == .inFlight else { return }
        state = .idle
        let request = requests[ticket.request]
        var succeeded = false
        if frame.status == 200, let expected = request.expected,
           let mismatch = ResponseValidator.mismatch(body: frame.body ?? ByteBuffer(), inferenceHeaderLength: frame.inferenceHeaderLength,
                                                     expected: expected) {
            fail(mismatch)
        } else if frame.status == 200 {
            let firstByte = firstByteNs == 0 ? endNs : firstByteNs
            recorder.recordSuccess(latencyNs: endNs &- startNs, sendNs: sendDoneNs &- startNs,
                                   receiveNs: endNs &- firstByte, batchSize: request.batchSize)
            succeeded = true
        } else {
            fail(Self.errorText(status: frame.status, body: frame.body))
        }
        noteEnded(ticket, atNs: endNs, succeeded: succeeded)
        if frame.connectionClose {
            handler?.close()
            return
        }
        becameIdle()
        pump()
    }

    func connectionClosed(error: Error?) {
        let abandoned = state == .inFlight ? ticket : nil
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

/// A failure to reach the server, worded for the user.
public struct ConnectionError: Error, CustomStringConvertible {
    public var address: ServerAddress
    public var underlying: Error
    public var description: String {
        if TLSFailure.isTLSError(underlying) { return "TLS with \(address) failed: \(TLSFailure.describe(underlying))" }
        return "failed to connect to \(address): \(underlying)"
    }
}

/// The channel side of a slot: frames responses and reports them to the slot.
final class InferConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let slot: LoadSlot
    private var framer: HTTPResponseFramer
    private var pending: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var closeReason: Error?

    init(slot: LoadSlot) {
        self.slot = slot
        // Bodies of successful responses are skipped unless their outputs are validated.
        self.framer = HTTPResponseFramer(keepSuccessfulBodies: slot.validates)
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
        slot.bytesArrived()
        var incoming = unwrapInboundIn(data)
        if pending == nil || pending!.readableBytes == 0 {
            pending = nil
            parse(&incoming, context: context)
            if incoming.readableBytes > 0 { pending = incoming }
        } else {
            pending!.writeBuffer(&incoming)
            var buffer = pending!
            pending = nil
            parse(&buffer, context: context)
            if buffer.readableBytes > 0 { pending = buffer }
        }
    }

    private func parse(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        do {
            while let frame = try framer.next(from: &buffer) {
                slot.responseComplete(frame)
            }
        } catch {
            buffer.clear()
            closeReason = error
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let frame = framer.endOfStream() { slot.responseComplete(frame) }
        slot.connectionClosed(error: closeReason)
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil { closeReason = error }
        context.close(promise: nil)
    }
}
