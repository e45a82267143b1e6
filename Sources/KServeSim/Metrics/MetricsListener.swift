import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The metrics endpoint, on a port of its own as Triton's is: `GET /metrics` answers
/// ``SimulatedMetrics/page(read:)`` after `delay` (to play a slow endpoint), anything else 404.
/// Plain HTTP whatever the other listeners speak, as Triton's metrics are.
final class MetricsListener: Sendable {
    let channel: Channel
    /// Reads answered so far (or being answered), over every connection.
    let reads: MetricsReadCount

    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: Channel, reads: MetricsReadCount) {
        self.channel = channel
        self.reads = reads
    }

    static func start(host: String, port: Int, delay: TimeAmount, group: EventLoopGroup) async throws -> MetricsListener {
        let reads = MetricsReadCount()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(reads: reads, delay: delay))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsListener(channel: channel, reads: reads)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// The count of reads over every connection of the metrics listener.
final class MetricsReadCount: Sendable {
    private let value = Atomic<Int>(0)

    /// Counts one read; its number, from 1.
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }

    var current: Int { value.load(ordering: .relaxed) }
}

/// Answers one connection's requests in order.
private final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let reads: MetricsReadCount
    private let delay: TimeAmount
    private var head: HTTPRequestHead?

    init(reads: MetricsReadCount, delay: TimeAmount) {
        self.reads = reads
        self.delay = delay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead): head = requestHead
        case .body: break
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let path = requestHead.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            guard requestHead.method == .GET, path == "/metrics" else {
                return write(context: context, head: requestHead, status: .notFound, text: "not found: \(requestHead.uri)\n")
            }
            let page = SimulatedMetrics.page(read: reads.next())
            guard delay > .zero else { return write(context: context, head: requestHead, status: .ok, text: page) }
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.write(context: context, head: requestHead, status: .ok, text: page)
            }
        }
    }

    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, text: String) {
        guard context.channel.isActive else { return }
        var headers: HTTPHeaders = ["content-type": "text/plain; version=0.0.4; charset=utf-8"]
        headers.add(name: "content-length", value: String(text.utf8.count))
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
