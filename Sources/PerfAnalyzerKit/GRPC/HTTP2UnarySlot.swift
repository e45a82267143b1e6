import Foundation
import KServeGRPC
import KServeProtocol
import NIOCore
import NIOHPACK
import NIOHTTP2

/// One unit of concurrency over unary `ModelInfer`, written directly on swift-nio-http2:
/// a connection of its own with one call outstanding while active, each call a new
/// HTTP/2 stream that carries the prepared, length-prefixed message and reads back the
/// status. grpc-swift's call layer (and even a child channel per stream) costs several
/// times the call itself in client CPU (see docs/benchmarks.md), so the load's unary calls
/// write frames on the connection themselves (`HTTP2StreamSlot` does the same for
/// `--streaming`); control calls and compressed calls go through grpc-swift.
///
/// Confined to `eventLoop`, like the HTTP/1.1 `HTTPSlot`.
final class HTTP2UnarySlot: SlotCore, ConcurrencySlot, @unchecked Sendable {
    /// What every call of a run shares: the framed messages and the request head.
    struct Calls: Sendable {
        var address: ServerAddress
        var tls: ClientTLS?
        /// Prepared requests with gRPC's 5-byte message prefix, built once.
        var framed: [ByteBuffer]
        var requests: [PreparedRequest]
        var head: HPACKHeaders
        var connectTimeoutMs: Int

        init(address: ServerAddress, tls: ClientTLS?, requests: [PreparedRequest], metadata: [HeaderField], connectTimeoutMs: Int = 30_000) {
            self.address = address
            self.connectTimeoutMs = connectTimeoutMs
            self.tls = tls
            self.requests = requests
            framed = Self.frameAll(requests)
            head = HTTP2LoadConnection.requestHead(path: "/inference.GRPCInferenceService/ModelInfer", address: address, tls: tls,
                                                   metadata: metadata)
        }

        /// A message with gRPC's prefix (uncompressed, length); `extra` bytes follow the message's own.
        static func frame(_ message: ByteBuffer, extra: [UInt8]) -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(5 + message.readableBytes + extra.count)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(message.readableBytes + extra.count))
            buffer.writeImmutableBuffer(message)
            buffer.writeBytes(extra)
            return buffer
        }

        /// Every request's message with gRPC's prefix, written back to back into a few large
        /// buffers rather than a buffer each (a run may hold millions).
        static func frameAll(_ requests: [PreparedRequest]) -> [ByteBuffer] {
            var framed = [ByteBuffer](repeating: ByteBuffer(), count: requests.count)
            var writer = PreparedBytesWriter()
            for (index, request) in requests.enumerated() {
                let message = request.bytes
                writer.write(request: index, byteCount: 5 + message.readableBytes, deliver: { framed[$0] = $1 }) { buffer in
                    buffer.writeInteger(UInt8(0))
                    buffer.writeInteger(UInt32(message.readableBytes))
                    buffer.writeImmutableBuffer(message)
                }
            }
            writer.finish { framed[$0] = $1 }
            return framed
        }

        /// The framed message of `ticket`, with its sequence parameters when it has them.
        func message(for ticket: SendTicket) -> ByteBuffer {
            guard let mark = ticket.sequence else { return framed[ticket.request] }
            return Self.frame(requests[ticket.request].bytes, extra: SequenceParameters.protobufEntries(mark))
        }
    }

    private enum State {
        case disconnected
        case idle
        case inFlight
    }

    private let calls: Calls
    /// Whether response messages are kept: to validate their outputs, or for a sink.
    let keepsResponses: Bool

    @exclusivity(unchecked) private var state = State.disconnected
    @exclusivity(unchecked) private var handler: UnaryFrameHandler?
    /// Client streams are odd and increasing; one per call.
    @exclusivity(unchecked) private var nextStreamID: Int32 = 1

    /// The call in flight.
    @exclusivity(unchecked) private var inFlight: RequestRecord?

    init(placement: SlotPlacement, calls: Calls) {
        precondition(!calls.requests.isEmpty)
        self.calls = calls
        keepsResponses = placement.sinks.keepsResponseBodies || calls.requests.contains { $0.expected != nil }
        super.init(placement: placement)
    }

    override func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        return HTTP2LoadConnection.connect(on: eventLoop, address: calls.address, tls: calls.tls, connectTimeoutMs: calls.connectTimeoutMs) {
            UnaryFrameHandler(slot: self)
        }
    }

    override func resume() {
        pump()
    }

    override var isBusy: Bool { state == .inFlight }

    override var awaitingSinceNs: UInt64 { state == .inFlight ? inFlight?.startNs ?? 0 : 0 }

    override func closeConnection() {
        handler?.close()
    }

    private func pump() {
        guard maySend, state == .idle, let handler else { return }
        guard nextStreamID < Int32.max - 2 else {
            // Stream ids are spent (after a billion calls): a fresh connection starts over.
            state = .disconnected
            handler.close()
            return
        }
        guard let next = nextTicket() else { return }
        state = .inFlight
        let streamID = HTTP2StreamID(nextStreamID)
        nextStreamID += 2
        var record = RequestRecord(ticket: next, startNs: sendStartNs(), batchSize: calls.requests[next.request].batchSize)
        handler.send(on: streamID, head: calls.head, message: calls.message(for: next))
        // NIO writes the frames to the socket inside writeAndFlush when it can.
        record.sentNs = sendEndNs()
        inFlight = record
    }

    // MARK: Events from the call handler

    func connectionReady(_ handler: UnaryFrameHandler) {
        self.handler = handler
        nextStreamID = 1
        state = .idle
        pump()
    }

    /// The first DATA frame of the call's answer arrived (the response head may come long before
    /// the server has computed anything, so the message's arrival starts the receive).
    @inline(__always)
    func answerStarted() {
        if state == .inFlight, inFlight?.firstResponseNs == 0 { inFlight?.firstResponseNs = MonotonicClock.now() }
    }

    func callEnded(_ outcome: UnaryFrameHandler.Outcome) {
        let endNs = MonotonicClock.now()
        guard state == .inFlight, var record = inFlight else { return }
        state = .idle
        inFlight = nil
        record.endNs = endNs
        if record.firstResponseNs == 0 { record.firstResponseNs = endNs }
        switch outcome {
        case .ok(let message):
            record.responseCount = 1
            if let expected = calls.requests[record.request].expected, let failure = Self.validate(message, expected: expected) {
                record.outcome = .validationFailure(failure)
            }
            if sinks.keepsResponseBodies { record.body = message }
        case .failed(let failure):
            record.outcome = failure
        }
        finish(&record)
        becameIdle()
        sendSoon()
    }

    func connectionClosed(error: Error?) {
        let abandoned = state == .inFlight ? inFlight : nil
        inFlight = nil
        state = .disconnected
        handler = nil
        let reason = error.map { TLSFailure.isTLSError($0) ? TLSFailure.describe($0) : "\($0)" } ?? "the server closed the connection"
        connectionEnded(abandoning: abandoned, failure: "the connection to \(calls.address) was lost during a call: \(reason)")
    }

    private static func validate(_ message: ByteBuffer?, expected: ExpectedOutputs) -> String? {
        guard let message else { return "validation of data step \(expected.step): the response carried no message" }
        do {
            let response = try Inference_ModelInferResponse(serializedBytes: Array(message.readableBytesView))
            return ResponseValidator.mismatch(response: response, expected: expected)
        } catch {
            return "validation of data step \(expected.step): the response is not a ModelInferResponse (\(error))"
        }
    }

}

/// The connection side of an `HTTP2UnarySlot`: writes each call's HEADERS and DATA frames
/// on a new stream and turns the frames of the answer into one outcome. Keeps the
/// connection's receive window open itself (no stream multiplexer sits in between).
final class UnaryFrameHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    static let maximumWindow = HTTP2LoadConnection.maximumWindow

    enum Outcome {
        /// The response message without its 5-byte prefix, when kept.
        case ok(ByteBuffer?)
        case failed(RequestOutcome)
    }

    private let slot: HTTP2UnarySlot
    private let keepsResponse: Bool
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    private var closeReason: Error?

    // The call in flight.
    @exclusivity(unchecked) private var streamID: HTTP2StreamID?
    @exclusivity(unchecked) private var response: ByteBuffer?
    @exclusivity(unchecked) private var sawHead = false
    /// Whether the answer's message holds outputs, read as its frames arrive.
    @exclusivity(unchecked) private var outputsCheck = GRPCOutputsCheck()
    /// Bytes received since the connection window was last topped up.
    @exclusivity(unchecked) private var unacknowledged = 0

    init(slot: HTTP2UnarySlot) {
        self.slot = slot
        keepsResponse = slot.keepsResponses
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        // Open the connection window once, wide, instead of acknowledging every response.
        let increment = Self.maximumWindow - 65_535
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))),
                              promise: nil)
        slot.connectionReady(self)
        context.fireChannelActive()
    }

    func send(on streamID: HTTP2StreamID, head: HPACKHeaders, message: ByteBuffer) {
        guard let context else { return }
        self.streamID = streamID
        response = nil
        sawHead = false
        outputsCheck.reset()
        context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: head)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(message), endStream: true)))),
                              promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .data(let data):
            unacknowledged += data.data.readableBytes
            if unacknowledged > Self.maximumWindow / 2 {
                context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: unacknowledged))),
                                      promise: nil)
                unacknowledged = 0
            }
            guard frame.streamID == streamID else { return }
            slot.answerStarted()
            if case .byteBuffer(let bytes) = data.data {
                bytes.withUnsafeReadableBytes { outputsCheck.scan($0) }
            }
            if keepsResponse, case .byteBuffer(var bytes) = data.data {
                if response == nil { response = bytes } else { response!.writeBuffer(&bytes) }
            }
            if data.endStream { end(.failed(.protocolError("the server ended the call without a gRPC status"))) }
        case .headers(let headers):
            guard frame.streamID == streamID else { return }
            // The first block is the response head, unless the server answers with trailers only.
            if !sawHead && !headers.endStream {
                sawHead = true
                if let status = headers.headers.first(name: ":status"), status != "200" {
                    end(.failed(.serverError("the server answered ModelInfer with HTTP status \(status)")))
                }
                return
            }
            var outcome = Self.outcome(trailers: headers.headers, message: response)
            if case .ok = outcome, let problem = outputsCheck.problem { outcome = .failed(.protocolError(problem)) }
            end(outcome)
        case .rstStream(let code):
            guard frame.streamID == streamID else { return }
            end(.failed(.connectionError("the server reset the call's stream (\(code))")))
        case .goAway(let lastStreamID, let code, _):
            if let streamID, streamID > lastStreamID {
                end(.failed(.connectionError("the server is going away (\(code)) and dropped the call in flight")))
            }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        slot.connectionClosed(error: closeReason)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil { closeReason = error }
        context.close(promise: nil)
    }

    private func end(_ outcome: Outcome) {
        guard streamID != nil else { return }
        streamID = nil
        response = nil
        slot.callEnded(outcome)
    }

    /// The gRPC status of the trailers; on success the message without its prefix.
    static func outcome(trailers: HPACKHeaders, message: ByteBuffer?) -> Outcome {
        if let failure = HTTP2LoadConnection.failure(trailers: trailers) { return .failed(failure) }
        guard var message, message.readableBytes >= 5 else { return .ok(nil) }
        message.moveReaderIndex(forwardBy: 5)
        return .ok(message)
    }
}
