import KServeProtocol
import NIOCore
import NIOHTTP1

/// One per connection: gathers a request, answers it, and keeps the connection
/// open for the next. NIO's pipelining handler in front of it holds back any
/// pipelined request until this one's response has been written, so answers
/// always go out in order even when a delayed inference finishes later.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let jsonHeaders: HTTPHeaders = ["content-type": "application/json"]
    static let binaryHeaders: HTTPHeaders = ["content-type": "application/octet-stream"]

    let core: ServerCore
    let plans: PlanCache
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// When the current request was complete; the start of its statistics.
    var receivedAt: UInt64 = 0
    /// When the current request's first bytes reached the server (`ArrivalStamp`); 0 without one.
    var arrivedAt: UInt64 = 0
    private let arrival: ArrivalStamp?
    private var lastPath = ""
    private var lastRoute = Route.notFound
    /// False once the peer is gone: delayed answers are then dropped, not written.
    var isOpen = true
    /// The connection's slow writer; only with the slow-bytes fault.
    let slowWriter: SlowByteWriter?
    /// The OpenAI answer being sent on this connection, told when the connection goes away.
    var openAIInFlight: OpenAIExchange?

    /// Call on the channel's event loop (the plan cache belongs to it).
    init(core: ServerCore, eventLoop: EventLoop, slowWriter: SlowByteWriter? = nil, arrival: ArrivalStamp? = nil) {
        self.core = core
        self.plans = core.planCache(for: eventLoop)
        self.slowWriter = slowWriter
        self.arrival = arrival
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            arrivedAt = arrival?.latestNs ?? 0
        case .body(var part):
            // A body in one piece stays a zero-copy slice of what the socket read.
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            receivedAt = MonotonicClock.now()
            guard let requestHead = head else { return }
            let requestBody = body ?? ByteBuffer()
            head = nil
            body = nil
            dispatch(context: context, head: requestHead, body: requestBody)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        openAIInFlight?.connectionClosed()
        context.fireChannelInactive()
    }

    private func route(for uri: String) -> Route {
        if uri != lastPath {
            lastPath = uri
            lastRoute = Route(path: uri)
        }
        return lastRoute
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let route = route(for: head.uri)
        if case .openAI(let endpoint) = route {
            return openAI(context: context, head: head, body: body, endpoint: endpoint)
        }
        if route != .notFound, head.method != (route.isPost ? .POST : .GET) {
            return respondError(context: context, head: head, status: .methodNotAllowed,
                                message: "\(head.method) is not allowed on \(head.uri)")
        }
        switch route {
        case .healthLive, .healthReady:
            respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: nil)
        case .serverMetadata:
            respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: core.serverMetadataBody)
        case .allStatistics:
            respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders,
                    body: core.statisticsBody(models: Array(core.catalog.models.indices)))
        case .notFound:
            respondError(context: context, head: head, status: .notFound, message: "Not Found")
        case .openAI:
            break // answered before the method check, which is the OpenAI side's own
        case .sharedMemory(.system, _, _) where !core.offersSystemSharedMemory:
            respondError(context: context, head: head, status: .notFound, message: "Not Found")
        case .sharedMemory(let kind, let region, let action):
            sharedMemory(context: context, head: head, body: body, kind: kind, region: region, action: action)
        case .model(let name, let version, let action):
            let index: Int
            do throws(InferError) {
                index = try resolve(model: name, version: version)
            } catch {
                return respondError(context: context, head: head, status: .badRequest, message: error.message)
            }
            switch action {
            case .ready:
                respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: nil)
            case .metadata:
                respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: core.metadataBodies[index])
            case .config:
                respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: core.configBodies[index])
            case .statistics:
                respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders,
                        body: core.statisticsBody(models: [index]))
            case .infer:
                infer(context: context, head: head, body: body, model: index)
            }
        }
    }

    /// The catalog index of a model; every model has exactly version "1".
    func resolve(model name: String, version: String?) throws(InferError) -> Int {
        guard let index = core.catalog.index(of: name) else {
            throw InferError("Request for unknown model: '\(name)' is not found")
        }
        if let version, version != "1" {
            throw InferError("Request for unknown model: '\(name)' version \(version) is not found")
        }
        return index
    }

    func respondError(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, message: String,
                      fault: SimulatorFault.Mode? = nil) {
        respond(context: context, head: head, status: status, headers: Self.jsonHeaders, body: ServerCore.errorBody(message),
                fault: fault)
    }

    /// `fault` is set for an inference request the configured fault applies to: it answers in the fault's way.
    func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                 headers: HTTPHeaders, body: ByteBuffer?, fault: SimulatorFault.Mode? = nil) {
        guard isOpen else { return }
        guard let fault else { return write(context: context, head: head, status: status, headers: headers, body: body) }
        guard let answer = HTTPFaultAnswer(fault, status: status, headers: headers, body: body) else { return }
        if fault == .slowBytes { slowWriter?.slowDownNextResponse() }
        if answer.cutsHalfway {
            return writeHalfAndClose(context: context, head: head, status: answer.status, headers: answer.headers,
                                     body: answer.body ?? ByteBuffer())
        }
        write(context: context, head: head, status: answer.status, headers: answer.headers, body: answer.body)
    }

    func write(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                       headers base: HTTPHeaders, body: ByteBuffer?) {
        var headers = base
        headers.add(name: "content-length", value: String(body?.readableBytes ?? 0))
        let keepAlive = head.isKeepAlive
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if head.version.major == 1, head.version.minor == 0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        if let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Connection-level failures (reset by peer, malformed HTTP): drop the connection.
        context.close(promise: nil)
    }
}
