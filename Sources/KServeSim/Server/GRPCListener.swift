import GRPCCore
import GRPCNIOTransportHTTP2
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The gRPC side of a running simulator: a `GRPCServer` on the HTTP side's
/// event loops (so `--threads` covers both), serving ``GRPCService``.
final class GRPCListener: Sendable {
    private struct Serving: Sendable {
        var server: GRPCServer<HTTP2ServerTransport.Posix>
        var task: Task<Void, any Error>
    }

    /// Dropped by `stop()`: the transport must be gone before its event loops
    /// shut down (its deinit still schedules work on them).
    private let serving: NIOLockedValueBox<Serving?>
    /// The bound port (the picked one when asked for 0).
    let port: Int

    private init(server: GRPCServer<HTTP2ServerTransport.Posix>, serving: Task<Void, any Error>, port: Int) {
        self.serving = NIOLockedValueBox(Serving(server: server, task: serving))
        self.port = port
    }

    /// Binds and starts serving; returns once the port is bound.
    static func start(host: String, port: Int, security: HTTP2ServerTransport.Posix.TransportSecurity,
                      core: ServerCore, group: MultiThreadedEventLoopGroup) async throws(SimulatorError) -> GRPCListener {
        let address: GRPCNIOTransportCore.SocketAddress
        do {
            // The transport wants a numeric address; a host name is resolved here, once.
            let resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(host, port: port)
            switch resolved {
            case .v4: address = .ipv4(host: resolved.ipAddress ?? host, port: port)
            case .v6: address = .ipv6(host: resolved.ipAddress ?? host, port: port)
            case .unixDomainSocket: throw SimulatorError.cannotListen(host: host, port: port, reason: "not an IP address")
            }
        } catch {
            throw .cannotListen(host: host, port: port, reason: "\(error)")
        }
        // Clients may compress requests with any algorithm; responses follow what the client accepts.
        let config = HTTP2ServerTransport.Posix.Config.defaults { config in
            config.compression.enabledAlgorithms = .all
        }
        let transport = HTTP2ServerTransport.Posix(address: address, transportSecurity: security,
                                                   config: config, eventLoopGroup: group)
        let server = GRPCServer(transport: transport, services: [GRPCService(core: core, group: group)])
        let serving = Task { try await server.serve() }
        do {
            let bound = try await transport.listeningAddress
            guard let boundPort = bound.ipv4?.port ?? bound.ipv6?.port else {
                throw SimulatorError.cannotListen(host: host, port: port, reason: "bound to an unexpected address \(bound)")
            }
            return GRPCListener(server: server, serving: serving, port: boundPort)
        } catch {
            // The reason a bind failed is what serve() threw, not the address lookup's error.
            server.beginGracefulShutdown()
            serving.cancel()
            let failure: any Error
            if case .failure(let serveError) = await serving.result { failure = serveError } else { failure = error }
            if Self.isAddressInUse(failure) { throw .addressInUse(host: host, port: port) }
            throw .cannotListen(host: host, port: port, reason: Self.innermostDescription(failure))
        }
    }

    /// Stops accepting calls and lets running ones finish; streams a client keeps
    /// open are cut after a short grace period so that stopping never hangs.
    func stop() async {
        guard let running = serving.withLockedValue({ serving -> Serving? in
            defer { serving = nil }
            return serving
        }) else { return }
        running.server.beginGracefulShutdown()
        let task = running.task
        let deadline = Task {
            try await Task.sleep(nanoseconds: 1_000_000_000)
            task.cancel()
        }
        _ = await task.result
        deadline.cancel()
    }

    private static func causes(of error: any Error) -> [any Error] {
        var chain: [any Error] = [error]
        var current: (any Error)? = error
        while let next = (current as? RuntimeError)?.cause ?? (current as? RPCError)?.cause, chain.count < 16 {
            chain.append(next)
            current = next
        }
        return chain
    }

    private static func isAddressInUse(_ error: any Error) -> Bool {
        causes(of: error).contains { cause in
            if let io = cause as? IOError, io.errnoCode == EADDRINUSE { return true }
            return "\(cause)".contains("Address already in use")
        }
    }

    private static func innermostDescription(_ error: any Error) -> String {
        "\(causes(of: error).last ?? error)"
    }
}
