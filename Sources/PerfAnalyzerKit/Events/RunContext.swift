/// What the reporters know of a run besides its events: the model, the protocol and the
/// settings it was measured with. Built once, when the model is known, so no reporter reads
/// the raw options.
public struct RunContext: Sendable {
    public var modelName: String
    public var modelVersion: String
    /// perf_analyzer's `--service-kind` value.
    public var serviceKind = "triton"
    public var wireProtocol: PerfAnalyzerOptions.WireProtocol
    public var batchSize: Int
    public var loadMode: LoadMode
    public var concurrencyRange: ConcurrencyRange
    public var measurementMode: PerfAnalyzerOptions.MeasurementMode
    public var windowMs: UInt64
    public var windowRequestCount: Int
    public var maxTrials: Int
    public var stabilityPercentage: Double
    public var percentile: Int?
    public var requestCount: Int
    public var warmupRequestCount: Int
    public var latencyLimitMs: UInt64
    public var binarySearch: Bool
    public var spinBeforeSendUs: UInt64
    public var verbosity: Int
    public var isAsync: Bool
    /// Whether the server reports the statistics extension (the Server section is printed only then).
    public var serverStatistics: Bool
    /// Decoupled models: latency to the first response, responses counted, no client time split.
    public var isDecoupled: Bool
    /// Sequence models: completed sequences are counted.
    public var isSequence: Bool
    /// The response cache is on for the model or a composing model: cache hits and misses are
    /// reported, in the console and as CSV columns.
    public var responseCache = false
    /// The cache is on for the (ensemble) model itself.
    public var topLevelResponseCache = false
    /// `--collect-metrics`: each level has a `Server Prometheus Metrics` section.
    public var collectsServerMetrics: Bool
    /// LLM runs (OpenAI, or a decoupled model's streams): each level has a token-metrics section.
    public var reportsTokens = false
    /// `--goodput`: the objectives, reported with the goodput.
    public var goodput: Goodput?
    /// How late this machine's timers wake, measured once before the load (client health).
    public var timerFloor: TimerFloor?

    public init(options: PerfAnalyzerOptions, isAsync: Bool, serverStatistics: Bool, isDecoupled: Bool = false, isSequence: Bool = false) {
        modelName = options.modelName
        modelVersion = options.modelVersion
        serviceKind = options.openAI != nil ? "openai" : (options.tritonCAPI == nil ? "triton" : "triton_c_api")
        goodput = options.goodput
        reportsTokens = options.openAI != nil || (isDecoupled && options.streaming)
        wireProtocol = options.wireProtocol
        batchSize = options.batchSize
        loadMode = options.loadMode
        concurrencyRange = options.concurrencyRange
        measurementMode = options.measurementMode
        windowMs = options.measurementIntervalMs
        windowRequestCount = options.measurementRequestCount
        maxTrials = options.maxTrials
        stabilityPercentage = options.stabilityPercentage
        percentile = options.percentile
        requestCount = options.requestCount
        warmupRequestCount = options.warmupRequestCount
        latencyLimitMs = options.latencyThresholdMs
        binarySearch = options.binarySearch
        spinBeforeSendUs = options.spinBeforeSendUs
        verbosity = options.verbosity
        self.isAsync = isAsync
        self.serverStatistics = serverStatistics
        self.isDecoupled = isDecoupled
        self.isSequence = isSequence
        collectsServerMetrics = options.serverMetrics != nil
    }

    /// One level only, named by no header (`--request-intervals`).
    public var isSingleLevel: Bool {
        switch loadMode {
        case .requestIntervals, .fixedSchedule: return true
        case .concurrency, .requestRate: return false
        }
    }
}
