import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// A keep-alive HTTP/1.1 connection for the control plane (readiness, metadata,
/// config, statistics): one request at a time, off the hot path.
public final class HTTPControlClient: Sendable {
    private let group: EventLoopGroup
    private let address: ServerAddress
    private let headers: [HeaderField]
    private let tls: ClientTLS?
    private let channel = NIOLockedValueBox<Channel?>(nil)
    /// Why the current connection closed, when it was an error (a TLS handshake refused, say):
    /// a request written after the close learns it from here.
    private let closeReason = NIOLockedValueBox<(any Error)?>(nil)
    private let connectTimeoutMs: Int

    init(group: EventLoopGroup, address: ServerAddress, headers: [HeaderField], tls: ClientTLS? = nil, connectTimeoutMs: Int = 30_000) {
        self.group = group
        self.connectTimeoutMs = connectTimeoutMs
        self.address = address
        self.headers = headers
        self.tls = tls
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: ByteBuffer
        public var text: String { String(buffer: body) }
    }

    public func get(_ path: String) async throws -> Response {
        try await send(method: "GET", path: path, body: nil)
    }

    public func post(_ path: String, json: String) async throws -> Response {
        var body = ByteBuffer()
        body.writeString(json)
        return try await send(method: "POST", path: path, body: body)
    }

    private func send(method: String, path: String, body: ByteBuffer?) async throws -> Response {
        var request = ByteBuffer()
        request.writeString("\(method) \(address.pathPrefix)\(path) HTTP/1.1\r\nHost: \(address.hostHeader)\r\nConnection: keep-alive\r\n")
        if let body { request.writeString("Content-Type: application/json\r\nContent-Length: \(body.readableBytes)\r\n") }
        for field in headers { request.writeString("\(field.name): \(field.value)\r\n") }
        request.writeString("\r\n")
        if var body { request.writeBuffer(&body) }
        let channel = try await connectedChannel()
        let promise = channel.eventLoop.makePromise(of: HTTPResponseFrame.self)
        // A channel that closed before the write (a handshake that failed at once) never hands
        // the request to the handler: the write's own failure then ends the request, with the
        // close's reason when there was one. (A promise completed twice keeps its first result.)
        let written = channel.eventLoop.makePromise(of: Void.self)
        let closeReason = self.closeReason
        written.futureResult.whenFailure { error in promise.fail(closeReason.withLockedValue { $0 } ?? error) }
        channel.writeAndFlush(ControlConnectionHandler.Outbound(bytes: request, promise: promise), promise: written)
        let frame: HTTPResponseFrame
        do {
            frame = try await promise.futureResult.get()
        } catch where TLSFailure.isTLSError(error) {
            throw ConnectionError(address: address, underlying: error)
        }
        return Response(status: frame.status, body: frame.body ?? ByteBuffer())
    }

    private func connectedChannel() async throws -> Channel {
        if let existing = channel.withLockedValue({ $0 }), existing.isActive { return existing }
        let fresh: Channel
        let tls = self.tls
        let address = self.address
        let closeReason = self.closeReason
        closeReason.withLockedValue { $0 = nil }
        do {
            fresh = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.milliseconds(Int64(connectTimeoutMs)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(address: address)) }
                        try channel.pipeline.syncOperations.addHandler(ControlConnectionHandler(closeReason: closeReason))
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            throw ConnectionError(address: address, underlying: error)
        }
        channel.withLockedValue { $0 = fresh }
        return fresh
    }

    public func close() async {
        let existing = channel.withLockedValue { value -> Channel? in
            defer { value = nil }
            return value
        }
        try? await existing?.close()
    }
}

/// Pairs each written request with the next complete response, in order.
final class ControlConnectionHandler: ChannelDuplexHandler {
    struct Outbound {
        var bytes: ByteBuffer
        var promise: EventLoopPromise<HTTPResponseFrame>
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Outbound
    typealias OutboundOut = ByteBuffer

    private var framer = HTTPResponseFramer(keepSuccessfulBodies: true)
    private var pending = ByteBuffer()
    private var waiting: [EventLoopPromise<HTTPResponseFrame>] = []
    private let closeReason: NIOLockedValueBox<(any Error)?>

    init(closeReason: NIOLockedValueBox<(any Error)?>) {
        self.closeReason = closeReason
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = unwrapOutboundIn(data)
        waiting.append(outbound.promise)
        context.write(wrapOutboundOut(outbound.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        do {
            while let frame = try framer.next(from: &pending) {
                guard !waiting.isEmpty else { continue }
                waiting.removeFirst().succeed(frame)
            }
            pending.discardReadBytes()
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let frame = framer.endOfStream(), !waiting.isEmpty { waiting.removeFirst().succeed(frame) }
        failAll(ClosedError())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        closeReason.withLockedValue { if $0 == nil { $0 = error } }
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        let failing = waiting
        waiting = []
        for promise in failing { promise.fail(error) }
    }

    struct ClosedError: Error, CustomStringConvertible {
        var description: String { "the server closed the connection" }
    }
}
