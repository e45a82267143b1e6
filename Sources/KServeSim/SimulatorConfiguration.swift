import NIOCore

/// How a ``KServeSimulator`` listens and behaves.
public struct SimulatorConfiguration: Sendable, Equatable {
    /// Interface to bind; the default keeps the simulator off the network.
    public var host: String
    /// HTTP port; 0 lets the kernel pick a free one (``KServeSimulator/start()`` returns it).
    public var httpPort: Int
    /// gRPC port (GRPCInferenceService); 0 lets the kernel pick a free one (see ``KServeSimulator/grpcPort``).
    public var grpcPort: Int
    /// Extra compute time added to every model execution, in microseconds.
    public var delayMicroseconds: Int
    /// Event-loop threads serving connections.
    public var threads: Int
    /// When set, one JSON line per inference request is appended to this file.
    public var recordPath: String?
    /// When set, both listeners speak TLS only (HTTPS, and gRPC over TLS).
    public var tls: TLSSettings?
    /// Whether the system shared-memory extension is there, and whether it takes registrations.
    public var systemSharedMemory: SystemSharedMemorySupport
    /// When set, the simulator misbehaves on purpose (see ``SimulatorFault``).
    public var fault: SimulatorFault?
    /// When set, Prometheus metrics (``SimulatedMetrics``) are served at `GET /metrics` on this
    /// port, plain HTTP; 0 lets the kernel pick a free one (see ``KServeSimulator/metricsPort``).
    public var metricsPort: Int?
    /// How long each metrics answer is held back, to play a slow endpoint.
    public var metricsDelayMilliseconds: Int
    /// The OpenAI-compatible endpoints under `/v1` on the HTTP listener: model name, answer length, timing.
    public var openAI: OpenAISettings

    /// The system shared-memory extension as offered, missing (a server without it, for
    /// clients' error paths), or present and refusing every registration.
    public enum SystemSharedMemorySupport: String, Sendable, Equatable, CaseIterable {
        case offered
        case absent
        case refusing
    }

    public init(
        host: String = "127.0.0.1",
        httpPort: Int = 8000,
        grpcPort: Int = 8001,
        delayMicroseconds: Int = 0,
        threads: Int = System.coreCount,
        recordPath: String? = nil,
        tls: TLSSettings? = nil,
        systemSharedMemory: SystemSharedMemorySupport = .offered,
        fault: SimulatorFault? = nil,
        metricsPort: Int? = nil,
        metricsDelayMilliseconds: Int = 0,
        openAI: OpenAISettings = OpenAISettings()
    ) {
        self.host = host
        self.httpPort = httpPort
        self.grpcPort = grpcPort
        self.delayMicroseconds = delayMicroseconds
        self.threads = threads
        self.recordPath = recordPath
        self.tls = tls
        self.systemSharedMemory = systemSharedMemory
        self.fault = fault
        self.metricsPort = metricsPort
        self.metricsDelayMilliseconds = metricsDelayMilliseconds
        self.openAI = openAI
    }

    /// The longest `metricsDelayMilliseconds`: an hour.
    public static let maximumMetricsDelayMilliseconds = 3_600_000
}
