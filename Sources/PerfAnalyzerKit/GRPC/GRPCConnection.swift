import GRPCCore
import GRPCNIOTransportHTTP2
import KServeGRPC
import NIOCore

/// One gRPC client (one HTTP/2 connection) and the task that runs it.
final class GRPCConnection: Sendable {
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    /// The client's transport, for the load's unary calls, which open streams on it directly.
    let transport: HTTP2ClientTransport.Posix
    private let runner: Task<Void, Never>

    /// `eventLoopGroup` may be a single event loop, which pins the connection to it.
    init(address: ServerAddress, tls: ClientTLS?, compression: GRPCCompression, eventLoopGroup: any EventLoopGroup) throws {
        let transport = try HTTP2ClientTransport.Posix(
            // An address literal must not go through DNS: grpc-swift would then offer it as the TLS
            // server name, which TLS forbids for IP addresses.
            target: address.isIPAddress
                ? (address.host.contains(":") ? .ipv6(host: address.host, port: address.port) : .ipv4(host: address.host, port: address.port))
                : .dns(host: address.host, port: address.port),
            transportSecurity: tls?.grpcSecurity ?? .plaintext,
            config: .defaults { config in
                config.compression.enabledAlgorithms = .all
                config.compression.algorithm = compression.algorithm
                // Leave room for large tensors in either direction.
                config.http2.maxFrameSize = 1 << 20
                config.http2.targetWindowSize = 16 << 20
                config.backoff.initial = .milliseconds(100)
                config.backoff.max = .seconds(1)
            },
            eventLoopGroup: eventLoopGroup
        )
        self.transport = transport
        let client = GRPCClient(transport: transport)
        self.client = client
        runner = Task { try? await client.runConnections() }
    }

    /// Shuts the connection down, waiting for calls still open at most `graceMs` (a silent
    /// server never ends them) before cancelling what is left.
    func close(graceMs: Int = 2000) async {
        client.beginGracefulShutdown()
        let runner = self.runner
        let closedInTime = (try? await withServerDeadline(graceMs, what: "closing", address: ServerAddress(host: "", port: 0)) {
            await runner.value
            return true
        }) ?? false
        if !closedInTime {
            runner.cancel()
            await runner.value
        }
    }
}

extension GRPCCompression {
    var algorithm: CompressionAlgorithm {
        switch self {
        case .none: .none
        case .gzip: .gzip
        case .deflate: .deflate
        }
    }
}

extension CallOptions {
    /// Control calls fail at once when the server cannot be reached rather than waiting for it.
    static var control: CallOptions {
        var options = CallOptions.defaults
        options.waitForReady = false
        options.timeout = .seconds(30)
        return options
    }

    /// Load calls: no deadline (a slow model is measured, not cut off), fail fast on a lost server.
    static func load(compression: GRPCCompression) -> CallOptions {
        var options = CallOptions.defaults
        options.waitForReady = false
        options.compression = compression.algorithm
        return options
    }
}
