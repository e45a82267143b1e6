import GRPCCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The protocol side of a run: the control client the run asks about the model, and the
/// slots that carry the load, over HTTP/1.1 or gRPC, with or without TLS, or through the C API
/// of a Triton running in this process.
final class RunTransport: Sendable {
    let address: ServerAddress
    let control: any InferenceServerControl
    private let options: PerfAnalyzerOptions
    private let tls: ClientTLS?
    /// gRPC connections of the load, one per event loop.
    private let loadConnections = NIOLockedValueBox<[GRPCConnection]>([])
    /// `--service-kind triton_c_api`: the server the slots call; stopped when `control` closes.
    private let inProcess: InProcessTritonServer?

    private init(address: ServerAddress, control: any InferenceServerControl, options: PerfAnalyzerOptions, tls: ClientTLS?,
                 inProcess: InProcessTritonServer? = nil) {
        self.address = address
        self.control = control
        self.options = options
        self.tls = tls
        self.inProcess = inProcess
    }

    /// Parses the URL, loads the TLS files and, for TLS over gRPC, completes one handshake,
    /// so certificate problems are told in one line before anything is sent.
    static func open(options: PerfAnalyzerOptions, group: MultiThreadedEventLoopGroup) async throws -> RunTransport {
        if let settings = options.tritonCAPI {
            return try await openInProcess(settings, options: options)
        }
        let address: ServerAddress
        do {
            address = try ServerAddress(parsing: options.url, defaultPort: options.wireProtocol == .grpc ? 8001 : 8000)
        } catch {
            throw RunError(error.description)
        }
        switch options.wireProtocol {
        case .http:
            let tls = try ClientTLS.forHTTPS(options.httpsTLS, address: address)
            let connection = HTTPControlClient(group: group, address: address, headers: options.headers, tls: tls,
                                               connectTimeoutMs: options.connectionTimeoutMs)
            let control = DeadlineControl(base: KServeHTTPClient(connection: connection), address: address,
                                          limitMs: options.connectionTimeoutMs, naming: .http)
            return RunTransport(address: address, control: control, options: options, tls: tls)
        case .grpc:
            guard address.pathPrefix.isEmpty else {
                throw RunError("-u \(options.url): a gRPC address is host:port; gRPC has no path to put '\(address.pathPrefix)' in")
            }
            let tls = try ClientTLS.forGRPC(options.grpcTLS)
            if let tls {
                try await withServerDeadline(options.connectionTimeoutMs, what: "the TLS handshake", address: address) {
                    try await TLSPreflight.handshake(address: address, tls: tls, group: group)
                }
            }
            let connection: GRPCConnection
            do {
                connection = try GRPCConnection(address: address, tls: tls, compression: .none, eventLoopGroup: group.next())
            } catch {
                throw RunError("-u \(options.url): \(error)")
            }
            let control = DeadlineControl(base: KServeGRPCClient(connection: connection, address: address, metadata: Metadata(headers: options.headers)),
                                          address: address, limitMs: options.connectionTimeoutMs, naming: .grpc)
            return RunTransport(address: address, control: control, options: options, tls: tls)
        }
    }

    /// Starts Triton in this process; its control plane answers through the C API.
    private static func openInProcess(_ settings: PerfAnalyzerOptions.TritonCAPI, options: PerfAnalyzerOptions) async throws -> RunTransport {
        let server: InProcessTritonServer
        do {
            server = try await InProcessTritonServer.start(.init(serverDirectory: settings.serverDirectory,
                                                                 modelRepository: settings.modelRepository, verbosity: options.verbosity))
        } catch {
            throw RunError(error.description)
        }
        // No address is used in process; the request builders never run for this kind.
        let address = ServerAddress(host: "in-process", port: 0)
        return RunTransport(address: address, control: CAPIControl(server: server), options: options, tls: nil, inProcess: server)
    }

    /// How to make the run's slots on `loops`.
    func slotFactory(loops: [EventLoop], requests: [PreparedRequest], isDecoupled: Bool,
                     cAPIRequests: CAPIRequestTable? = nil) throws -> SlotFactory {
        let address = self.address
        let tls = self.tls
        if let inProcess, let cAPIRequests {
            let version: Int64
            do {
                version = try InProcessTritonServer.version(options.modelVersion)
            } catch {
                throw RunError(error.description)
            }
            let shared = CAPISlot.Shared(server: inProcess, table: cAPIRequests, requests: requests, modelName: options.modelName,
                                         modelVersion: version, isDecoupled: isDecoupled,
                                         parameters: CAPIRequestParameters(options.requestParameters))
            return { placement in CAPISlot(placement: placement, shared: shared) }
        }
        if options.openAI != nil {
            let connectTimeoutMs = options.connectionTimeoutMs
            return { placement in
                OpenAISlot(placement: placement, address: address, tls: tls, requests: requests, connectTimeoutMs: connectTimeoutMs)
            }
        }
        switch options.wireProtocol {
        case .http:
            let connectTimeoutMs = options.connectionTimeoutMs
            return { placement in
                HTTPSlot(placement: placement, address: address, tls: tls, requests: requests, connectTimeoutMs: connectTimeoutMs)
            }
        case .grpc where !options.streaming && options.grpcCompression == .none:
            let calls = HTTP2UnarySlot.Calls(address: address, tls: tls, requests: requests, metadata: options.headers,
                                             connectTimeoutMs: options.connectionTimeoutMs)
            return { placement in HTTP2UnarySlot(placement: placement, calls: calls) }
        case .grpc where options.streaming && options.grpcCompression == .none && options.periodicConcurrency == nil:
            // Periodic concurrency gives every request a slot of its own: those share a
            // grpc-swift connection per loop below rather than each opening one.
            let calls = HTTP2StreamSlot.Calls(address: address, tls: tls, requests: requests, metadata: options.headers,
                                              isDecoupled: isDecoupled, connectTimeoutMs: options.connectionTimeoutMs)
            return { placement in HTTP2StreamSlot(placement: placement, calls: calls) }
        case .grpc:
            var connections: [GRPCConnection] = []
            for loop in loops {
                do {
                    connections.append(try GRPCConnection(address: address, tls: tls, compression: options.grpcCompression, eventLoopGroup: loop))
                } catch {
                    throw RunError("-u \(options.url): \(error)")
                }
            }
            loadConnections.withLockedValue { [connections] in $0 += connections }
            let perLoop = connections
            let executors = loops.map(EventLoopTaskExecutor.init(eventLoop:))
            let metadata = Metadata(headers: options.headers)
            let compression = options.grpcCompression
            let streaming = options.streaming
            return { placement in
                // The slot's own loop: its task must run where its feed and sinks live.
                let share = loops.firstIndex { $0 === placement.eventLoop } ?? placement.index % loops.count
                if streaming {
                    return GRPCStreamSlot(placement: placement, connection: perLoop[share], executor: executors[share],
                                          requests: requests, metadata: metadata, compression: compression, address: address,
                                          isDecoupled: isDecoupled)
                }
                return GRPCUnarySlot(placement: placement, connection: perLoop[share], executor: executors[share],
                                     requests: requests, metadata: metadata, compression: compression, address: address)
            }
        }
    }

    /// Closes the load's own connections (the slots' HTTP connections close with the driver).
    func closeLoad() async {
        let connections = loadConnections.withLockedValue { value -> [GRPCConnection] in
            defer { value = [] }
            return value
        }
        for connection in connections { await connection.close() }
    }

    func close() async {
        await closeLoad()
        await control.close()
    }
}
