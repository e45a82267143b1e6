import NIOCore
import NIOPosix

/// Opens one keep-alive HTTP/1.1 connection for a load slot: no Nagle delay, TLS when the run
/// has it, and the slot's own handler last in the pipeline.
enum HTTPLoadConnection {
    static func open(on eventLoop: EventLoop, address: ServerAddress, tls: ClientTLS?, connectTimeoutMs: Int,
                     handler: @escaping @Sendable () -> any ChannelHandler) -> EventLoopFuture<Void> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.milliseconds(Int64(connectTimeoutMs)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(address: address)) }
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
            .connect(host: address.host, port: address.port)
            .map { _ in () }
            .flatMapErrorThrowing { error in
                throw ConnectionError(address: address, underlying: error)
            }
    }
}
