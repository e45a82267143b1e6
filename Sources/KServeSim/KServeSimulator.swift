import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A KServe v2 server, HTTP and gRPC, answering for simulated models (see ``ModelCatalog/standard()``).
///
///     let simulator = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0))
///     let port = try await simulator.start()
///     let grpcPort = simulator.grpcPort!
///     ...
///     try await simulator.stop()
public final class KServeSimulator: Sendable {
    public let configuration: SimulatorConfiguration
    private let catalog: ModelCatalog
    private let state = NIOLockedValueBox<Running?>(nil)

    private struct Running {
        var group: MultiThreadedEventLoopGroup
        var channel: Channel
        var recorder: RequestRecorder?
        var port: Int
        var grpc: GRPCSide
        var sharedMemory: SharedMemoryRegistry
        var metrics: MetricsListener?
    }

    /// The gRPC service, or with the silent fault a listener that never speaks.
    private enum GRPCSide {
        case service(GRPCListener)
        case silent(Channel)

        var port: Int {
            switch self {
            case .service(let listener): return listener.port
            case .silent(let channel): return channel.localAddress?.port ?? 0
            }
        }

        func stop() async {
            switch self {
            case .service(let listener): await listener.stop()
            case .silent(let channel): try? await channel.close()
            }
        }
    }

    /// `catalog` defaults to a fresh standard catalog, so simulators never share sequence state.
    public init(configuration: SimulatorConfiguration = .init(), catalog: ModelCatalog = .standard()) {
        self.configuration = configuration
        self.catalog = catalog
    }

    /// The bound HTTP port while running.
    public var httpPort: Int? { state.withLockedValue { $0?.port } }

    /// The bound gRPC port while running.
    public var grpcPort: Int? { state.withLockedValue { $0?.grpc.port } }

    /// The bound metrics port while running, when metrics are served.
    public var metricsPort: Int? { state.withLockedValue { $0?.metrics?.port } }

    /// How many times the metrics page has been read.
    public var metricsReads: Int { state.withLockedValue { $0?.metrics?.reads.current ?? 0 } }

    /// Binds both listeners and starts serving; returns the HTTP port (the picked one when configured as 0).
    /// TLS files are read and checked first, so a bad one fails before anything listens.
    @discardableResult
    public func start() async throws -> Int {
        let config = configuration
        guard (0...65535).contains(config.httpPort) else {
            throw SimulatorError.invalidConfiguration("HTTP port \(config.httpPort) is out of range")
        }
        guard (0...65535).contains(config.grpcPort) else {
            throw SimulatorError.invalidConfiguration("gRPC port \(config.grpcPort) is out of range")
        }
        guard config.delayMicroseconds >= 0 else {
            throw SimulatorError.invalidConfiguration("delay must not be negative")
        }
        if let metricsPort = config.metricsPort, !(0...65535).contains(metricsPort) {
            throw SimulatorError.invalidConfiguration("metrics port \(metricsPort) is out of range")
        }
        guard (0...SimulatorConfiguration.maximumMetricsDelayMilliseconds).contains(config.metricsDelayMilliseconds) else {
            throw SimulatorError.invalidConfiguration(
                "the metrics delay must be in 0...\(SimulatorConfiguration.maximumMetricsDelayMilliseconds) ms")
        }
        if let fault = config.fault {
            guard fault.after >= 0 else {
                throw SimulatorError.invalidConfiguration("the fault's count of normal answers must not be negative")
            }
            guard (0...SimulatorFault.maximumDelayMilliseconds).contains(fault.delayMilliseconds) else {
                throw SimulatorError.invalidConfiguration(
                    "the fault's delay must be in 0...\(SimulatorFault.maximumDelayMilliseconds) ms")
            }
        }
        if let problem = config.openAI.problem { throw SimulatorError.invalidConfiguration(problem) }
        guard state.withLockedValue({ $0 == nil }) else { throw SimulatorError.alreadyStarted }

        let tls = try config.tls.map { settings throws(SimulatorError) in try LoadedTLS(settings) }
        let httpTLS = tls?.httpContext
        let recorder = try config.recordPath.map { path throws(SimulatorError) in try RequestRecorder(path: path) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, config.threads))
        let silent = config.fault?.mode == .silent
        let core = ServerCore(catalog: catalog, delayMicroseconds: config.delayMicroseconds, recorder: recorder,
                              loops: Array(group.makeIterator()), systemSharedMemory: config.systemSharedMemory,
                              fault: silent ? nil : config.fault, openAI: config.openAI)
        let slowDelay = config.fault.flatMap { fault in
            fault.mode == .slowBytes ? TimeAmount.milliseconds(Int64(fault.delayMilliseconds)) : nil
        }
        let bootstrap = silent ? SilentListener.bootstrap(group: group)
                               : Self.httpBootstrap(group: group, core: core, tls: httpTLS, slowDelay: slowDelay)

        let channel: Channel
        do {
            channel = try await bootstrap.bind(host: config.host, port: config.httpPort).get()
        } catch {
            try? await group.shutdownGracefully()
            recorder?.close()
            throw Self.listenFailure(error, host: config.host, port: config.httpPort)
        }
        let port = channel.localAddress?.port ?? config.httpPort

        let grpc: GRPCSide
        do {
            if silent {
                grpc = .silent(try await Self.bindSilent(group: group, host: config.host, port: config.grpcPort))
            } else {
                grpc = .service(try await GRPCListener.start(host: config.host, port: config.grpcPort,
                                                             security: tls?.grpcSecurity ?? .plaintext, core: core, group: group))
            }
        } catch {
            try? await channel.close()
            try? await group.shutdownGracefully()
            recorder?.close()
            throw error
        }

        var metrics: MetricsListener? = nil
        if let metricsPort = config.metricsPort {
            do {
                metrics = try await MetricsListener.start(host: config.host, port: metricsPort,
                                                          delay: .milliseconds(Int64(config.metricsDelayMilliseconds)), group: group)
            } catch {
                await grpc.stop()
                try? await channel.close()
                try? await group.shutdownGracefully()
                recorder?.close()
                throw Self.listenFailure(error, host: config.host, port: metricsPort)
            }
        }

        let stored = state.withLockedValue { running -> Bool in
            guard running == nil else { return false }
            running = Running(group: group, channel: channel, recorder: recorder, port: port, grpc: grpc,
                              sharedMemory: core.sharedMemory, metrics: metrics)
            return true
        }
        guard stored else {
            // Lost a race with a concurrent start(): undo ours.
            await metrics?.stop()
            await grpc.stop()
            try? await channel.close()
            try? await group.shutdownGracefully()
            recorder?.close()
            throw SimulatorError.alreadyStarted
        }
        return port
    }

    /// The HTTP listener's connections: optional TLS, the slow-bytes writer when `slowDelay` is set, HTTP/1.1.
    private static func httpBootstrap(group: MultiThreadedEventLoopGroup, core: ServerCore, tls: NIOSSLContext?,
                                      slowDelay: TimeAmount?) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let arrival = ArrivalStamp(clock: core.wakeClock(for: channel.eventLoop))
                    try channel.pipeline.syncOperations.addHandler(arrival)
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    // Below the HTTP encoder, so that a slow response's head is slowed down too.
                    let slowWriter = slowDelay.map { SlowByteWriter(delay: $0) }
                    if let slowWriter { try channel.pipeline.syncOperations.addHandler(slowWriter) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPHandler(core: core, eventLoop: channel.eventLoop, slowWriter: slowWriter, arrival: arrival))
                }
            }
    }

    private static func bindSilent(group: MultiThreadedEventLoopGroup, host: String, port: Int) async throws(SimulatorError) -> Channel {
        do {
            return try await SilentListener.bootstrap(group: group).bind(host: host, port: port).get()
        } catch {
            throw listenFailure(error, host: host, port: port)
        }
    }

    private static func listenFailure(_ error: any Error, host: String, port: Int) -> SimulatorError {
        if let ioError = error as? IOError, ioError.errnoCode == EADDRINUSE {
            return .addressInUse(host: host, port: port)
        }
        return .cannotListen(host: host, port: port, reason: "\(error)")
    }

    /// Stops listening, closes every connection, flushes the record file, and unmaps every
    /// registered shared-memory region (never unlinking it: the client owns it). Safe to call twice.
    public func stop() async throws {
        guard let running = state.withLockedValue({ running -> Running? in
            defer { running = nil }
            return running
        }) else { return }
        await running.metrics?.stop()
        await running.grpc.stop()
        try? await running.channel.close()
        // Even when the loops fail to stop: a request still holding a mapping then fails
        // its access instead of touching unmapped memory.
        defer { running.sharedMemory.closeAll() }
        try await running.group.shutdownGracefully()
        running.recorder?.close()
    }
}
