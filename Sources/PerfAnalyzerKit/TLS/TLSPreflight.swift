import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// One TLS handshake with the server before the run, with the run's own settings: grpc-swift
/// retries a failed connection quietly, so this is where a wrong CA or a refused client
/// certificate becomes one clear line. Under TLS 1.3 a server refuses a client certificate
/// only after the client has finished its handshake, so the check waits for the server's
/// first bytes (an HTTP/2 server speaks first) or its alert.
enum TLSPreflight {
    static func handshake(address: ServerAddress, tls: ClientTLS, group: EventLoopGroup) async throws {
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handshake = channel.eventLoop.makePromise(of: Void.self)
                        try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(address: address))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: handshake))
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            throw RunError(ConnectionError(address: address, underlying: error).description)
        }
        defer { channel.close(promise: nil) }
        do {
            try await channel.pipeline.handler(type: HandshakeWatcher.self).flatMap { $0.done.futureResult }.get()
        } catch {
            throw RunError(ConnectionError(address: address, underlying: error).description)
        }
    }

    /// Completes `done` once: with success when the server has spoken (or stayed quiet for a
    /// while) after the handshake, with the TLS error otherwise. Confined to its channel's loop.
    final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let done: EventLoopPromise<Void>
        private var settled = false

        init(done: EventLoopPromise<Void>) {
            self.done = done
        }

        private func settle(_ error: Error?) {
            guard !settled else { return }
            settled = true
            if let error { done.fail(error) } else { done.succeed() }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                // A server that stays silent has accepted us; do not wait for ever.
                context.eventLoop.scheduleTask(in: .seconds(2)) { self.settle(nil) }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            settle(nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            settle(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            settle(NIOSSLError.uncleanShutdown)
            context.fireChannelInactive()
        }
    }
}
