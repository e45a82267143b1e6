/// Everything a run needs to know, resolved and validated from the command line.
/// Plain data: the rest of the engine never sees argument strings.
public struct PerfAnalyzerOptions: Sendable, Equatable {
    public enum WireProtocol: String, Sendable, Equatable, CaseIterable {
        case http
        case grpc
    }

    public enum MeasurementMode: String, Sendable, Equatable, CaseIterable {
        case timeWindows = "time_windows"
        case countWindows = "count_windows"
    }

    public enum TensorFormat: String, Sendable, Equatable, CaseIterable {
        case binary
        case json
    }

    /// How tensors reach the server: in the request (`none`) or through registered regions.
    public enum SharedMemoryKind: String, Sendable, Equatable, CaseIterable {
        case none
        case system
        case cuda
    }

    /// `--service-kind triton_c_api`: Triton inside this process, through libtritonserver.
    public struct TritonCAPI: Sendable, Equatable {
        /// `--triton-server-directory`: holds `lib/libtritonserver.so`, `backends/`, `repoagents/`, `caches/`.
        public var serverDirectory: String
        /// `--model-repository`.
        public var modelRepository: String
    }

    // Model and server
    /// nil for `--service-kind triton` (a server over HTTP or gRPC).
    public var tritonCAPI: TritonCAPI? = nil
    public var modelName: String = ""
    public var modelVersion: String = ""
    public var url: String = "localhost:8000"
    public var wireProtocol: WireProtocol = .http
    public var headers: [HeaderField] = []
    public var verbosity: Int = 0
    /// `--streaming`: one bidirectional gRPC stream per concurrency slot.
    public var streaming: Bool = false
    /// `--connection-timeout`: connecting and each control call.
    public var connectionTimeoutMs: Int = 30_000
    /// `--request-timeout`; 0 picks the limit from the answers seen (`RequestWatch`).
    public var requestTimeoutMs: Int = 0
    public var grpcCompression: GRPCCompression = .none
    /// TLS for gRPC; nil when `--ssl-grpc-use-ssl` is off.
    public var grpcTLS: GRPCTLSOptions? = nil
    /// TLS settings for `https://` URLs.
    public var httpsTLS = HTTPSTLSOptions()

    // Load
    public var batchSize: Int = 1
    public var concurrencyRange = ConcurrencyRange(start: 1, end: 1, step: 1)
    /// Concurrency (the default), a request rate, or custom intervals.
    public var loadMode: LoadMode = .concurrency
    public var sequences = SequenceOptions()
    /// nil: perf_analyzer's default (synchronous unless the model is a sequence model).
    public var asyncRequested: Bool? = nil
    public var maxThreads: Int = 16
    public var maxThreadsGiven: Bool = false
    /// `--periodic-concurrency-range` with `--request-period`; nil for the other load modes.
    public var periodicConcurrency: PeriodicConcurrency? = nil
    /// Scheduled modes: how long before each send its lane wakes and polls (0: it sleeps until due).
    public var spinBeforeSendUs: UInt64 = 0

    // Measurement
    public var measurementIntervalMs: UInt64 = 5000
    public var measurementMode: MeasurementMode = .timeWindows
    public var measurementRequestCount: Int = 50
    public var stabilityPercentage: Double = 10
    public var maxTrials: Int = 10
    public var percentile: Int? = nil
    public var requestCount: Int = 0
    public var warmupRequestCount: Int = 0
    public var latencyThresholdMs: UInt64 = 0
    public var binarySearch: Bool = false

    // Input and output
    public var inputData: InputDataSource = .random
    public var shapes: [String: [Int64]] = [:]
    public var stringLength: Int = 128
    public var stringData: String? = nil
    public var inputTensorFormat: TensorFormat = .binary
    public var outputTensorFormat: TensorFormat = .binary
    public var sharedMemory: SharedMemoryKind = .none
    /// Bytes per output and batch entry for outputs whose size the model does not fix.
    public var outputSharedMemorySize: Int = 102_400

    /// `--trace-*` and `--log-frequency`: Triton's trace settings, sent before the load.
    public var traceSettings = TraceSettings()
    /// `--bls-composing-models`: models a BLS model calls, reported as an ensemble's steps are.
    public var blsComposingModels: [ModelDescription.ComposingModel] = []

    /// `--request-parameter`: parameters every inference request carries.
    public var requestParameters: [RequestParameter] = []

    // Reports
    public var csvPath: String? = nil
    public var verboseCSV: Bool = false
    /// `--profile-export-file`: the per-request export, written as the run goes.
    public var profileExportPath: String? = nil
    /// `--html-report`: the HTML report, written when the run is over.
    public var htmlReportPath: String? = nil
    /// `--collect-metrics` with its URL and interval; nil when metrics are not collected.
    public var serverMetrics: ServerMetricsOptions? = nil
    /// `--service-kind openai`; nil for Triton's kinds.
    public var openAI: OpenAI? = nil
    /// `--goodput`: objectives a request must meet to count toward goodput.
    public var goodput: Goodput? = nil
    /// `--session-concurrency`: multi-turn chats played at once (OpenAI); nil otherwise.
    public var sessionConcurrency: Int? = nil
    /// `--enable-mpi` (with `--mpi-split-load`); nil for a run of one process.
    public var mpi: MPIMode? = nil

    public init() {}
}

/// One `-H Name:Value` header, sent with every HTTP request.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// `--concurrency-range start:end:step`. `end == 0` means keep growing by `step`
/// until the latency threshold is crossed.
public struct ConcurrencyRange: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var step: Int

    public init(start: Int, end: Int, step: Int) {
        self.start = start
        self.end = end
        self.step = step
    }

    public var isOpenEnded: Bool { end == 0 }
}
