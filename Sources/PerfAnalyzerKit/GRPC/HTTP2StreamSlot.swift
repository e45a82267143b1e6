import KServeGRPC
import KServeProtocol
import NIOCore
import NIOHPACK
import NIOHTTP2

/// One unit of concurrency over `ModelStreamInfer` (`--streaming`), written directly on
/// swift-nio-http2 like `HTTP2UnarySlot`: a connection of its own and one bidirectional
/// stream on it that carries one request at a time. A request ends with its only response,
/// or, for a decoupled model, with the response the server marks final; every response in
/// between is counted. Response messages are only scanned (`GRPCResponseScanner`), and
/// decoded only to validate them.
///
/// The stream opens with the first request and stays open while the slot waits for work; it
/// is half-closed when the slot is deactivated (or the run fails), and the slot stays busy
/// until the server's trailers close it.
///
/// Confined to `eventLoop`.
final class HTTP2StreamSlot: SlotCore, ConcurrencySlot, @unchecked Sendable {
    /// What every stream of a run shares.
    struct Calls: Sendable {
        var address: ServerAddress
        var tls: ClientTLS?
        var requests: [PreparedRequest]
        var head: HPACKHeaders
        var isDecoupled: Bool
        var connectTimeoutMs: Int

        init(address: ServerAddress, tls: ClientTLS?, requests: [PreparedRequest], metadata: [HeaderField], isDecoupled: Bool,
             connectTimeoutMs: Int = 30_000) {
            self.address = address
            self.tls = tls
            self.requests = requests
            self.isDecoupled = isDecoupled
            self.connectTimeoutMs = connectTimeoutMs
            head = HTTP2LoadConnection.requestHead(path: "/inference.GRPCInferenceService/ModelStreamInfer", address: address, tls: tls,
                                                   metadata: metadata)
        }
    }

    private enum State {
        case disconnected
        /// Connected, no stream open.
        case idle
        /// The stream is open with nothing in flight.
        case open
        case inFlight
        /// Half-closed by us; waiting for the server's trailers.
        case closing
    }

    /// Requests up to this size are copied behind the prefix into one DATA frame; larger ones
    /// go as a second frame of their own, uncopied.
    private static let copyLimit = 16 << 10

    private let calls: Calls
    private let validates: Bool
    /// Every response of the request in flight (its time; its bytes when a sink wants them).
    private let responses: ResponseLog

    @exclusivity(unchecked) private var state = State.disconnected
    @exclusivity(unchecked) private var handler: StreamFrameHandler?
    /// Client streams are odd and increasing; one per stream opened.
    @exclusivity(unchecked) private var nextStreamID: Int32 = 1
    @exclusivity(unchecked) private var requestID: UInt64 = 0
    @exclusivity(unchecked) private var inFlight: RequestRecord?
    /// The gRPC prefix and id field of the request being written, reused from request to request.
    @exclusivity(unchecked) private var scratch = ByteBuffer()

    init(placement: SlotPlacement, calls: Calls) {
        precondition(!calls.requests.isEmpty)
        self.calls = calls
        validates = calls.requests.contains { $0.expected != nil }
        responses = ResponseLog(keepsBodies: placement.sinks.keepsResponseBodies)
        scratch.reserveCapacity(Self.copyLimit + 64)
        super.init(placement: placement)
    }

    override func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        return HTTP2LoadConnection.connect(on: eventLoop, address: calls.address, tls: calls.tls, connectTimeoutMs: calls.connectTimeoutMs) {
            StreamFrameHandler(slot: self)
        }
    }

    override func resume() {
        pump()
    }

    override func deactivate() -> EventLoopFuture<Void> {
        active = false
        if state == .open { halfClose() }
        return stopSending(isBusy: isBusy)
    }

    override var isBusy: Bool { state == .inFlight || state == .closing }

    /// Since the request in flight started or its last response came: a stream that keeps
    /// answering is healthy however long the request runs.
    override var awaitingSinceNs: UInt64 {
        guard state == .inFlight, let record = inFlight else { return 0 }
        return max(record.startNs, responses.timesNs.last ?? 0)
    }

    override func closeConnection() {
        handler?.close()
    }

    private func pump() {
        guard let handler else { return }
        guard maySend else {
            if state == .open { halfClose() }
            return
        }
        guard state == .idle || state == .open else { return }
        if state == .idle, nextStreamID >= Int32.max - 2 || handler.serverIsGoingAway {
            // Stream ids are spent, or the server takes no new streams: a fresh connection starts over.
            state = .disconnected
            handler.close()
            return
        }
        guard let next = nextTicket() else { return }
        if state == .idle {
            handler.open(HTTP2StreamID(nextStreamID), head: calls.head)
            nextStreamID += 2
        }
        requestID &+= 1
        responses.reset()
        let request = calls.requests[next.request]
        var record = beginRecord(next, batchSize: request.batchSize)
        record.responses = responses
        record.toFirstResponse = calls.isDecoupled
        inFlight = record
        state = .inFlight
        write(request.bytes, sequence: next.sequence, to: handler)
        // NIO writes the frames to the socket inside the flush when it can.
        if state == .inFlight { inFlight?.sentNs = MonotonicClock.now() }
    }

    /// Writes one length-prefixed `ModelInferRequest`: the prepared message with the stream
    /// request id (field 3, put before the other fields, which never hold one) and the
    /// sequence parameters (appended, so they win over any the message holds).
    private func write(_ message: ByteBuffer, sequence: SequenceMark?, to handler: StreamFrameHandler) {
        let id = requestID
        let idDigits = Self.decimalDigits(id)
        if let sequence {
            // As in the unary slot, a sequence's request is a buffer of its own.
            let entries = SequenceParameters.protobufEntries(sequence)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(7 + idDigits + message.readableBytes + entries.count)
            Self.writePrefix(into: &buffer, length: 2 + idDigits + message.readableBytes + entries.count, id: id, idDigits: idDigits)
            buffer.writeImmutableBuffer(message)
            buffer.writeBytes(entries)
            handler.send(buffer, then: nil)
            return
        }
        // Written in place: the previous request's frames have long been written, so the
        // buffer is no longer shared and clearing it allocates nothing.
        scratch.clear()
        Self.writePrefix(into: &scratch, length: 2 + idDigits + message.readableBytes, id: id, idDigits: idDigits)
        if message.readableBytes <= Self.copyLimit {
            scratch.writeImmutableBuffer(message)
            handler.send(scratch, then: nil)
        } else {
            handler.send(scratch, then: message)
        }
    }

    /// gRPC's prefix (uncompressed, `length`) and the id field in decimal.
    @inline(__always)
    private static func writePrefix(into buffer: inout ByteBuffer, length: Int, id: UInt64, idDigits: Int) {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(length))
        buffer.writeInteger(UInt8(3 << 3 | 2))
        buffer.writeInteger(UInt8(idDigits))
        var divisor: UInt64 = 1
        for _ in 1..<idDigits { divisor &*= 10 }
        while divisor > 0 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: 48 + (id / divisor) % 10))
            divisor /= 10
        }
    }

    private static func decimalDigits(_ value: UInt64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    private func halfClose() {
        state = .closing
        handler?.halfClose()
    }

    // MARK: Events from the frame handler

    func connectionReady(_ handler: StreamFrameHandler) {
        self.handler = handler
        nextStreamID = 1
        state = .idle
        pump()
    }

    /// One response message of the stream (without its prefix).
    func received(_ bytes: UnsafeRawBufferPointer) {
        let nowNs = MonotonicClock.now()
        guard state == .inFlight, var record = inFlight else {
            failRun("the server sent a response on the stream from \(calls.address) with no request in flight")
            return
        }
        let summary: GRPCResponseScanner.Summary
        do {
            summary = try GRPCResponseScanner.scanStreamResponse(bytes)
        } catch {
            end(.protocolError("\(error)"))
            return
        }
        if let error = summary.errorMessage {
            end(.serverError(error))
            return
        }
        if summary.hasOutputs {
            record.responseCount += 1
            if record.firstResponseNs == 0 { record.firstResponseNs = nowNs }
            responses.append(atNs: nowNs, copying: bytes)
            sinks.responseArrived(record)
            inFlight = record
            if validates, let expected = calls.requests[record.request].expected, let mismatch = Self.mismatch(bytes, expected: expected) {
                end(.validationFailure(mismatch))
                return
            }
        } else if !calls.isDecoupled {
            end(.protocolError("the server's ModelInferResponse has no outputs"))
            return
        }
        // A non-decoupled model answers once; a decoupled one until the final marker.
        if calls.isDecoupled ? summary.isFinal ?? false : true { end(.success) }
    }

    /// The stream closed (trailers, a reset, an end without status): `failure` nil for gRPC's OK.
    func streamEnded(_ failure: RequestOutcome?) {
        guard state == .inFlight || state == .open || state == .closing else { return }
        let carried = state == .inFlight
        state = .idle
        if carried {
            end(failure ?? .protocolError("the server ended the stream to \(calls.address) while request \(requestID) was in flight"))
        } else if let failure {
            failRun("the stream to \(calls.address) closed: \(failure)")
        }
        becameIdle()
        sendSoon()
    }

    func connectionClosed(error: Error?) {
        let abandoned = state == .inFlight ? inFlight : nil
        inFlight = nil
        state = .disconnected
        handler = nil
        let reason = error.map { TLSFailure.isTLSError($0) ? TLSFailure.describe($0) : "\($0)" } ?? "the server closed the connection"
        connectionEnded(abandoning: abandoned, failure: "the stream to \(calls.address) was lost with request \(requestID) in flight: \(reason)")
    }

    /// The request in flight ended now with `outcome`; the stream stays open for the next.
    private func end(_ outcome: RequestOutcome) {
        guard var record = inFlight else { return }
        inFlight = nil
        if state == .inFlight { state = .open }
        record.endNs = MonotonicClock.now()
        if record.firstResponseNs == 0, outcome == .success { record.firstResponseNs = record.endNs }
        record.outcome = outcome
        finish(&record)
        becameIdle()
        sendSoon()
    }

    private static func mismatch(_ bytes: UnsafeRawBufferPointer, expected: ExpectedOutputs) -> String? {
        do {
            let response = try Inference_ModelStreamInferResponse(serializedBytes: bytes).inferResponse
            return ResponseValidator.mismatch(response: response, expected: expected)
        } catch {
            return "validation of data step \(expected.step): the response is not a ModelStreamInferResponse (\(error))"
        }
    }
}

/// The connection side of an `HTTP2StreamSlot`: opens the stream, writes each request's DATA
/// frames on it, splits the answer's DATA frames into gRPC messages and reads the trailers.
/// Keeps the connection's and the stream's receive windows open itself.
final class StreamFrameHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let slot: HTTP2StreamSlot
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    private var closeReason: Error?

    @exclusivity(unchecked) private var streamID: HTTP2StreamID?
    @exclusivity(unchecked) private var sawHead = false
    /// The server sent GOAWAY: the open stream may finish, no new one may start.
    @exclusivity(unchecked) private(set) var serverIsGoingAway = false
    /// The start of a message whose end has not arrived yet.
    @exclusivity(unchecked) private var partial = ByteBuffer()
    /// Bytes received since the connection's and the stream's windows were last topped up.
    @exclusivity(unchecked) private var connectionUnacknowledged = 0
    @exclusivity(unchecked) private var streamUnacknowledged = 0

    init(slot: HTTP2StreamSlot) {
        self.slot = slot
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        // Open the connection window once, wide, instead of acknowledging every response.
        let increment = HTTP2LoadConnection.maximumWindow - 65_535
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))),
                              promise: nil)
        slot.connectionReady(self)
        context.fireChannelActive()
    }

    /// Starts a stream with the call's HEADERS; flushed with the first request.
    func open(_ streamID: HTTP2StreamID, head: HPACKHeaders) {
        guard let context else { return }
        self.streamID = streamID
        sawHead = false
        dropPartial()
        streamUnacknowledged = 0
        context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: head)))), promise: nil)
    }

    /// Writes `data`, then `more` when given, as DATA frames of the stream and flushes.
    func send(_ data: ByteBuffer, then more: ByteBuffer?) {
        guard let context, let streamID else { return }
        if let more {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(data))))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(more))))),
                                  promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(data))))),
                                  promise: nil)
        }
    }

    /// Ends the client's side of the stream; the server answers with its trailers.
    func halfClose() {
        guard let context, let streamID else { return }
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)))),
                              promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .data(let data):
            let count = data.data.readableBytes
            connectionUnacknowledged += count
            if connectionUnacknowledged > HTTP2LoadConnection.maximumWindow / 2 {
                context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream,
                                                                 payload: .windowUpdate(windowSizeIncrement: connectionUnacknowledged))),
                                      promise: nil)
                connectionUnacknowledged = 0
            }
            guard let streamID, frame.streamID == streamID else { return }
            streamUnacknowledged += count
            if streamUnacknowledged > HTTP2LoadConnection.maximumWindow / 2, !data.endStream {
                context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: streamID,
                                                                 payload: .windowUpdate(windowSizeIncrement: streamUnacknowledged))),
                                      promise: nil)
                streamUnacknowledged = 0
            }
            if case .byteBuffer(let bytes) = data.data, !deliverMessages(bytes, on: streamID) { return }
            if data.endStream { end(.protocolError("the server ended the stream without a gRPC status")) }
        case .headers(let headers):
            guard frame.streamID == streamID else { return }
            // The first block is the response head, unless the server answers with trailers only.
            if !sawHead && !headers.endStream {
                sawHead = true
                if let status = headers.headers.first(name: ":status"), status != "200" {
                    end(.serverError("the server answered ModelStreamInfer with HTTP status \(status)"))
                }
                return
            }
            end(HTTP2LoadConnection.failure(trailers: headers.headers))
        case .rstStream(let code):
            guard frame.streamID == streamID else { return }
            end(.connectionError("the server reset the stream (\(code))"))
        case .goAway(let lastStreamID, let code, _):
            serverIsGoingAway = true
            if let streamID, streamID > lastStreamID {
                end(.connectionError("the server is going away (\(code)) and dropped the stream"))
            }
        default:
            break
        }
    }

    /// Hands every complete message in `bytes` (after what `partial` holds) to the slot, and
    /// keeps the start of an incomplete one. False when the stream ended meanwhile.
    private func deliverMessages(_ bytes: ByteBuffer, on streamID: HTTP2StreamID) -> Bool {
        var buffer = bytes
        if partial.readableBytes > 0 {
            // A message spans frames (rare for small answers): join them, once.
            var joined = partial
            partial = ByteBuffer()
            joined.writeBuffer(&buffer)
            buffer = joined
        }
        while buffer.readableBytes >= 5 {
            let start = buffer.readerIndex
            let compressed = buffer.getInteger(at: start, as: UInt8.self)!
            let length = Int(buffer.getInteger(at: start + 1, as: UInt32.self)!)
            guard buffer.readableBytes - 5 >= length else { break }
            guard compressed == 0 else {
                end(.protocolError("the server sent a compressed message on a stream that asked for none"))
                return false
            }
            buffer.withUnsafeReadableBytes { slot.received(UnsafeRawBufferPointer(rebasing: $0[5..<(5 + length)])) }
            guard self.streamID == streamID else { return false }
            buffer.moveReaderIndex(forwardBy: 5 + length)
        }
        if buffer.readableBytes > 0 { partial = buffer }
        return true
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        streamID = nil
        slot.connectionClosed(error: closeReason)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil { closeReason = error }
        context.close(promise: nil)
    }

    private func end(_ failure: RequestOutcome?) {
        guard streamID != nil else { return }
        streamID = nil
        dropPartial()
        slot.streamEnded(failure)
    }

    private func dropPartial() {
        if partial.readableBytes > 0 { partial = ByteBuffer() }
    }
}
