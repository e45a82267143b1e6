import Foundation
import KServeProtocol
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// What the load's swift-nio-http2 slots (`HTTP2UnarySlot`, `HTTP2StreamSlot`) share: the
/// request head of a call and the connection each slot opens for itself.
enum HTTP2LoadConnection {
    /// HTTP/2's largest window.
    static let maximumWindow = Int(Int32.max)

    /// The HEADERS of a call to `path` with the run's metadata (`-H`).
    static func requestHead(path: String, address: ServerAddress, tls: ClientTLS?, metadata: [HeaderField]) -> HPACKHeaders {
        var head = HPACKHeaders()
        head.add(name: ":method", value: "POST")
        head.add(name: ":scheme", value: tls == nil ? "http" : "https")
        head.add(name: ":path", value: path)
        head.add(name: ":authority", value: address.hostHeader)
        head.add(name: "content-type", value: "application/grpc")
        head.add(name: "te", value: "trailers")
        head.add(name: "user-agent", value: "swift-perf-analyzer")
        for field in metadata { head.add(name: field.name.lowercased(), value: field.value) }
        return head
    }

    /// Opens a connection on `eventLoop` with an HTTP/2 client handler (TLS below it when
    /// given) and `frameHandler()` above it, which writes and reads the frames itself.
    static func connect(on eventLoop: EventLoop, address: ServerAddress, tls: ClientTLS?, connectTimeoutMs: Int,
                        frameHandler: @escaping @Sendable () -> any ChannelHandler) -> EventLoopFuture<Void> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(Int64(connectTimeoutMs)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(address: address)) }
                    // Streams get the widest window: the frame handler tops it up rarely, if ever.
                    let settings = [
                        HTTP2Setting(parameter: .initialWindowSize, value: maximumWindow),
                        HTTP2Setting(parameter: .maxFrameSize, value: 1 << 20),
                    ]
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client, initialSettings: settings))
                    try channel.pipeline.syncOperations.addHandler(frameHandler())
                }
            }
            .connect(host: address.host, port: address.port)
            .map { _ in () }
            .flatMapErrorThrowing { error in
                throw ConnectionError(address: address, underlying: error)
            }
    }

    /// The gRPC status of `trailers`: nil for OK, else the failure.
    static func failure(trailers: HPACKHeaders) -> RequestOutcome? {
        guard let status = trailers.first(name: "grpc-status") else {
            return .protocolError("the server's answer carried no gRPC status")
        }
        guard status != "0" else { return nil }
        let text = trailers.first(name: "grpc-message").map { $0.removingPercentEncoding ?? $0 } ?? ""
        return .serverError(text.isEmpty ? "the call failed with gRPC status \(status)" : text)
    }
}
