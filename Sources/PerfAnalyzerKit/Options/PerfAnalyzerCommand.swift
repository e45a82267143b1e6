import ArgumentParser
import Foundation
import KServeProtocol

/// The `perf-analyzer` command line. Flag spellings, defaults and units are perf_analyzer's,
/// so existing command lines run unchanged; the help groups follow its sections.
public struct PerfAnalyzerCommand: ParsableCommand {
    public static let version = ReleaseVersion.current

    public static let configuration = CommandConfiguration(
        commandName: "perf-analyzer",
        abstract: "Measure the throughput and latency of a model served over the KServe v2 protocol.",
        discussion: """
        Drives load at each concurrency level of --concurrency-range, takes measurement windows \
        until throughput and latency settle, and reports client and server timings in \
        perf_analyzer's console and CSV formats.
        """
    )

    public struct General: ParsableArguments {
        @Option(name: .customShort("m"), help: ArgumentHelp("Model to profile (required).", valueName: "model"))
        var model: String?

        @Option(name: .customShort("x"), help: ArgumentHelp("Model version; the server's latest when omitted.", valueName: "version"))
        var modelVersion: String = ""

        @Flag(name: .customShort("v"), help: "Verbose output; give it twice for extra detail.")
        var verbose: Int

        @Option(name: .long, help: ArgumentHelp("'triton': a server over HTTP or gRPC; 'triton_c_api': Triton inside this process through libtritonserver (--triton-server-directory, --model-repository); 'openai': an OpenAI-compatible server over HTTP (--endpoint).", valueName: "kind"))
        var serviceKind: String = "triton"

        @Option(name: .long, help: ArgumentHelp("Models a BLS model calls, name[:version] separated by commas; their server statistics are reported as an ensemble's composing models are.", valueName: "models"))
        var blsComposingModels: String?

        @Flag(name: .long, help: "Print the version and exit.")
        var version = false

        public init() {}
    }

    public struct Measurement: ParsableArguments {
        @Flag(name: [.customShort("a"), .customLong("async")], help: "Send requests asynchronously (the default for sequence models).")
        var async = false

        @Flag(name: .customLong("sync"), help: "Send requests synchronously (the default for other models).")
        var sync = false

        @Option(name: [.customShort("p"), .customLong("measurement-interval")], parsing: .unconditional,
                help: ArgumentHelp("Length of a time window in msec.", valueName: "ms"))
        var measurementInterval: Int = 5000

        @Option(name: .long, help: ArgumentHelp("How a window ends: after -p msec, or after --measurement-request-count requests.", valueName: "mode"))
        var measurementMode: PerfAnalyzerOptions.MeasurementMode = .timeWindows

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Requests that end a count window.", valueName: "n"))
        var measurementRequestCount: Int = 50

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Concurrency levels to measure; end 0 grows by step until -l is reached. (default: 1:1:1)", valueName: "start:end:step"))
        var concurrencyRange: String?

        @Option(name: .long, help: ArgumentHelp("Start 'start' requests, then 'step' more each time every request of the latest set has had --request-period responses, until 'end' requests have started; each request has a stream of its own (-i grpc --streaming) and the run is recorded only in --profile-export-file. (step: 1 when left out)", valueName: "start:end:step"))
        var periodicConcurrencyRange: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --periodic-concurrency-range: responses every request of the latest set must have before the next set starts.", valueName: "n"))
        var requestPeriod: Int = 10

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Request rates to measure, in requests per second; end 0 grows by step until -l is reached.", valueName: "start:end:step"))
        var requestRateRange: String?

        @Option(name: .long, help: ArgumentHelp("Gaps between sends at a request rate.", valueName: "distribution"))
        var requestDistribution: RequestDistribution = .constant

        @Option(name: .long, help: ArgumentHelp("File of gaps between sends, in microseconds, one per line; played in order and looped.", valueName: "file"))
        var requestIntervals: String?

        @Flag(name: .long, help: "--service-kind openai: send each request of --input-data once, at its entry's 'timestamp' (msec after the start).")
        var fixedSchedule = false

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("--service-kind openai: play the multi-turn chats of --input-data (entries grouped by 'session_id'), this many at once, each once; a turn carries the chat so far and waits its entry's 'delay' (msec) after the previous answer.", valueName: "n"))
        var sessionConcurrency: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sequence models, request rate and intervals: sequences in flight at once.", valueName: "n"))
        var numOfSequences: Int = 4

        @Flag(name: .long, help: "Sequence models: never more than one request of a sequence in flight.")
        var serialSequences = false

        @Flag(name: .long, help: "Search the concurrency range for the highest level under -l instead of stepping through it.")
        var binarySearch = false

        @Option(name: [.customShort("l"), .customLong("latency-threshold")], parsing: .unconditional,
                help: ArgumentHelp("Stop at the first level whose latency reaches this many msec (0: no limit).", valueName: "ms"))
        var latencyThreshold: Int = 0

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Most threads used to generate load. (default: 4 with a request rate or intervals, else 16)", valueName: "n"))
        var maxThreads: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Request rate and intervals: wake this many usec before each send and poll until it is due. Sends then leave within a few usec of their time instead of after the machine's timer wake-up, for up to this much client CPU per request. (default: 0, sleep until due)", valueName: "usec"))
        var spinBeforeSend: Int?

        @Option(name: [.customShort("s"), .customLong("stability-percentage")], parsing: .unconditional,
                help: ArgumentHelp("Largest spread, in percent, between the last three windows of a stable level.", valueName: "percent"))
        var stabilityPercentage: Double = 10

        @Option(name: [.customShort("r"), .customLong("max-trials")], parsing: .unconditional,
                help: ArgumentHelp("Most windows taken at one level before giving up on stability.", valueName: "n"))
        var maxTrials: Int = 10

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Stabilize and report on this latency percentile (1-99) instead of the average.", valueName: "p"))
        var percentile: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Measure exactly this many requests in a single window.", valueName: "n"))
        var requestCount: Int = 0

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Requests sent and not measured before each level.", valueName: "n"))
        var warmupRequestCount: Int = 0

        public init() {}
    }

    public struct InputData: ParsableArguments {
        @Option(name: [.customShort("b"), .customLong("batch-size")], parsing: .unconditional, help: ArgumentHelp("Batch size of each request.", valueName: "n"))
        var batchSize: Int = 1

        @Option(name: .long, help: ArgumentHelp("random (default), zero, a directory with one file per input, or a JSON file. Repeat to append several JSON files.", valueName: "source"))
        var inputData: [String] = []

        @Option(name: .long, help: ArgumentHelp("Shape of a variable-sized input, e.g. INPUT0:2,8. Repeatable.", valueName: "name:dims"))
        var shape: [String] = []

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Length of random strings for BYTES inputs.", valueName: "n"))
        var stringLength: Int = 128

        @Option(name: .long, help: ArgumentHelp("Fill BYTES inputs with this string instead of random ones.", valueName: "string"))
        var stringData: String?

        @Option(name: .long, help: ArgumentHelp("How input tensors travel over HTTP.", valueName: "format"))
        var inputTensorFormat: PerfAnalyzerOptions.TensorFormat = .binary

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sequence models: requests per sequence; with JSON streams, loop each stream to this length. (default: 20, or the stream's length)", valueName: "n"))
        var sequenceLength: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sequence models: how far, in percent either way, a sequence's length may vary.", valueName: "percent"))
        var sequenceLengthVariation: Double = 20

        @Option(name: .long, help: ArgumentHelp("Sequence models: correlation IDs to use, start:end with end not included. (default: from 1, unbounded)", valueName: "start:end"))
        var sequenceIdRange: String?

        @Option(name: .long, help: ArgumentHelp("How output tensors come back over HTTP.", valueName: "format"))
        var outputTensorFormat: PerfAnalyzerOptions.TensorFormat = .binary

        @Option(name: .long, help: ArgumentHelp("Pass tensors through shared memory instead of in each request: system (POSIX) or cuda (GPU memory).", valueName: "kind"))
        var sharedMemory: PerfAnalyzerOptions.SharedMemoryKind = .none

        @Option(name: .long, help: ArgumentHelp("A parameter every request carries, name:value:type with type bool, int or string, e.g. max_tokens:256:int. Repeatable.", valueName: "name:value:type"))
        var requestParameter: [String] = []

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --shared-memory: bytes reserved per output and batch entry when the model does not fix the output's size (BYTES or variable shape).", valueName: "bytes"))
        var outputSharedMemorySize: Int = 102_400

        public init() {}
    }

    public struct Server: ParsableArguments {
        @Option(name: .customShort("u"), help: ArgumentHelp(
            "Server address, host:port; https://host:port for HTTP over TLS. (default: localhost:8000 for HTTP, localhost:8001 for gRPC)",
            valueName: "url"))
        var url: String?

        @Option(name: .customShort("i"), help: ArgumentHelp("Protocol.", valueName: "protocol"))
        var wireProtocol: PerfAnalyzerOptions.WireProtocol = .http

        @Flag(name: .long, help: "gRPC only: send over one bidirectional stream per concurrency slot (needed for decoupled models).")
        var streaming = false

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Longest wait, in msec, for a connection to open and for each control call (health, metadata, config, statistics, shared memory) to answer.", valueName: "ms"))
        var connectionTimeout: Int = 30_000

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("A request without its answer after this many msec fails, which ends the run. 0: automatic, the longer of 60 s and 10 times the slowest answer seen so far in the run.", valueName: "ms"))
        var requestTimeout: Int = 0

        @Option(name: .long, help: ArgumentHelp("gRPC only: compress requests. (default: none)", valueName: "algorithm"))
        var grpcCompressionAlgorithm: GRPCCompression?

        @Option(name: .long, help: ArgumentHelp("gRPC only: connect over TLS. Given alone, as perf_analyzer takes it, or with true or false. (default: false)", valueName: "bool"))
        var sslGrpcUseSsl: String?

        @Option(name: .long, help: ArgumentHelp("PEM file of the root certificates that sign the gRPC server's certificate.", valueName: "path"))
        var sslGrpcRootCertificationsFile: String?

        @Option(name: .long, help: ArgumentHelp("PEM file of the client's private key (mutual TLS over gRPC).", valueName: "path"))
        var sslGrpcPrivateKeyFile: String?

        @Option(name: .long, help: ArgumentHelp("PEM file of the client's certificate chain (mutual TLS over gRPC).", valueName: "path"))
        var sslGrpcCertificateChainFile: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("HTTPS: 1 checks the server's certificate chain, 0 accepts any. (default: 1)", valueName: "number"))
        var sslHttpsVerifyPeer: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("HTTPS: 1 or 2 checks the certificate's names against the host, 0 does not. (default: 2)", valueName: "number"))
        var sslHttpsVerifyHost: Int?

        @Option(name: .long, help: ArgumentHelp("HTTPS: PEM bundle of the certificate authorities to trust.", valueName: "path"))
        var sslHttpsCaCertificatesFile: String?

        @Option(name: .long, help: ArgumentHelp("HTTPS: the client certificate (mutual TLS).", valueName: "path"))
        var sslHttpsClientCertificateFile: String?

        @Option(name: .long, help: ArgumentHelp("HTTPS: the client certificate's format. (default: PEM)", valueName: "type"))
        var sslHttpsClientCertificateType: HTTPSTLSOptions.FileFormat?

        @Option(name: .long, help: ArgumentHelp("HTTPS: the client certificate's private key.", valueName: "path"))
        var sslHttpsPrivateKeyFile: String?

        @Option(name: .long, help: ArgumentHelp("HTTPS: the private key's format. (default: PEM)", valueName: "type"))
        var sslHttpsPrivateKeyType: HTTPSTLSOptions.FileFormat?

        @Flag(name: .long, help: "Read the server's Prometheus metrics while each level is measured and report, per GPU, utilization, power and memory (console; with -f and --verbose-csv also the CSV), plus the server's CPU utilization and memory.")
        var collectMetrics = false

        @Option(name: .long, help: ArgumentHelp("With --collect-metrics: where the metrics are, host:port/path or http://host:port/path (path /metrics when left out). (default: the host of -u, port 8002, /metrics)", valueName: "url"))
        var metricsUrl: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --collect-metrics: msec between two reads of the metrics. (default: 1000)", valueName: "ms"))
        var metricsInterval: Int?

        @Option(name: .long, help: ArgumentHelp("--service-kind triton_c_api: the Triton install holding lib/libtritonserver.so and backends/. (default: /opt/tritonserver)", valueName: "path"))
        var tritonServerDirectory: String?

        @Option(name: .long, help: ArgumentHelp("--service-kind triton_c_api: the model repository the in-process server loads (required there).", valueName: "path"))
        var modelRepository: String?

        public init() {}
    }

    public struct Other: ParsableArguments {
        @Option(name: .customShort("f"), help: ArgumentHelp("Write the results as CSV to this file.", valueName: "file"))
        var csvFile: String?

        @Flag(name: .long, help: "Add the average latency, the HTTP time split and the client's CPU per request to the CSV (with --collect-metrics, the server metrics too).")
        var verboseCsv = false

        @Option(name: .long, help: ArgumentHelp("Write every measured request (send time, inputs, response times and outputs) and each level's window boundaries to this JSON file, in perf_analyzer's profile export format. The file must not exist.", valueName: "path"))
        var profileExportFile: String?

        @Option(name: .long, help: ArgumentHelp("Write a self-contained HTML report of the run to this file (charts of throughput against latency, latency percentiles, windows, server time, schedule and tokens; opens offline).", valueName: "path"))
        var htmlReport: String?

        @Option(name: .customShort("H"), help: ArgumentHelp("Extra HTTP header, Name:Value. Repeatable.", valueName: "header"))
        var header: [String] = []

        @Flag(name: .long, help: "Started by mpirun, one process per model: the ranks start each level together and a level ends only when every rank is stable. Loads Open MPI's libmpi at run time.")
        var enableMpi = false

        @Flag(name: .long, help: "With --enable-mpi: all ranks drive the one model as one client; each level's concurrency or request rate is split across the ranks, their windows are merged on rank 0, which alone reports.")
        var mpiSplitLoad = false

        public init() {}
    }

    public struct Trace: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("Triton's trace level: OFF, TIMESTAMPS or TENSORS. Repeat to trace several. Sent to the server's trace settings before the load.", valueName: "level"))
        var traceLevel: [String] = []

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Trace one request in this many. (server default: 1000)", valueName: "n"))
        var traceRate: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Stop tracing after this many traces; -1 for no limit. (server default: -1)", valueName: "n"))
        var traceCount: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Write the trace file after every this many traces (to <trace file>.0, .1, ...); 0 writes it at server shutdown. (server default: 0)", valueName: "n"))
        var logFrequency: Int?

        public init() {}
    }

    @OptionGroup(title: "General options") public var general: General
    @OptionGroup(title: "Measurement parameters") public var measurement: Measurement
    @OptionGroup(title: "Input data options") public var inputData: InputData
    @OptionGroup(title: "Server details") public var server: Server
    @OptionGroup(title: "Other options") public var other: Other
    @OptionGroup(title: "Server trace settings") public var trace: Trace
    @OptionGroup(title: "OpenAI-compatible servers (--service-kind openai)") public var openAI: OpenAIFlags
    @OptionGroup(title: "Deprecated perf_analyzer options") public var deprecated: Deprecated

    public init() {}

    /// Resolves and checks the parsed flags. Throws one `OptionError` line for the first problem.
    public func resolve() throws(OptionError) -> PerfAnalyzerOptions {
        var command = self
        try command.foldDeprecatedFlags()
        return try command.resolvedOptions()
    }

    /// One line for each deprecated flag on the command line, for stderr.
    public var deprecationNotices: [String] { deprecated.notices }

    private func resolvedOptions() throws(OptionError) -> PerfAnalyzerOptions {
        var options = PerfAnalyzerOptions()
        guard let model = general.model, !model.isEmpty else { throw OptionError("-m: the model name is required") }
        options.modelName = model
        options.modelVersion = general.modelVersion
        options.verbosity = general.verbose
        options.tritonCAPI = try resolveServiceKind()
        if options.tritonCAPI != nil { try checkCAPIConnectionFlags() }

        if let text = general.blsComposingModels {
            options.blsComposingModels = try Self.composingModels(text)
        }
        options.wireProtocol = server.wireProtocol
        try NumericBounds.check(server.connectionTimeout, in: 1...NumericBounds.maxMilliseconds, flag: "--connection-timeout",
                                expected: "a timeout from 1 to \(NumericBounds.maxMilliseconds) msec")
        options.connectionTimeoutMs = server.connectionTimeout
        try NumericBounds.check(server.requestTimeout, in: 0...NumericBounds.maxMilliseconds, flag: "--request-timeout",
                                expected: "a timeout from 0 (automatic) to \(NumericBounds.maxMilliseconds) msec")
        options.requestTimeoutMs = server.requestTimeout
        options.url = server.url ?? (options.wireProtocol == .grpc ? "localhost:8001" : "localhost:8000")
        try server.resolveTransport(into: &options)
        try server.resolveServerMetrics(into: &options)

        for text in other.header {
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                throw OptionError("-H \(text): expected Name:Value")
            }
            let value = text[text.index(after: colon)...].drop { $0 == " " }
            options.headers.append(HeaderField(name: String(text[..<colon]), value: String(value)))
        }

        try NumericBounds.check(inputData.batchSize, in: 1...Int(Int32.max), flag: "-b", expected: "a batch size from 1 to \(Int32.max)")
        options.batchSize = inputData.batchSize
        options.inputData = try Self.inputSource(inputData.inputData)
        options.stringData = inputData.stringData
        for text in inputData.shape {
            guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else {
                throw OptionError("--shape \(text): expected NAME:d1,d2,...")
            }
            var dims: [Int64] = []
            for part in text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false) {
                guard let dim = Int64(part), dim >= 0 else {
                    throw OptionError("--shape \(text): '\(part)' is not a dimension >= 0")
                }
                guard dim <= Int64(Int32.max) else {
                    throw OptionError("--shape \(text): dimension \(part) is larger than \(Int32.max)")
                }
                dims.append(dim)
            }
            options.shapes[String(text[..<colon])] = dims
        }
        try NumericBounds.check(inputData.stringLength, in: 0...NumericBounds.maxRequestBytes, flag: "--string-length",
                                expected: "a length from 0 to \(NumericBounds.maxRequestBytes) bytes")
        options.stringLength = inputData.stringLength
        options.inputTensorFormat = inputData.inputTensorFormat
        options.outputTensorFormat = inputData.outputTensorFormat
        options.sharedMemory = inputData.sharedMemory
        try NumericBounds.check(inputData.outputSharedMemorySize, in: 1...NumericBounds.maxRequestBytes, flag: "--output-shared-memory-size",
                                expected: "a size from 1 to \(NumericBounds.maxRequestBytes) bytes")
        options.outputSharedMemorySize = inputData.outputSharedMemorySize
        for text in inputData.requestParameter {
            options.requestParameters.append(try RequestParameter(parsing: text))
        }

        if measurement.async && measurement.sync { throw OptionError("--async and --sync cannot be given together") }
        options.asyncRequested = measurement.async ? true : (measurement.sync ? false : nil)
        try NumericBounds.check(measurement.measurementInterval, in: 1...NumericBounds.maxMilliseconds, flag: "-p",
                                expected: "a measurement interval from 1 to \(NumericBounds.maxMilliseconds) msec")
        options.measurementIntervalMs = UInt64(measurement.measurementInterval)
        options.measurementMode = measurement.measurementMode
        try NumericBounds.check(measurement.measurementRequestCount, in: 1...NumericBounds.maxRequestCount, flag: "--measurement-request-count",
                                expected: "a count from 1 to \(NumericBounds.maxRequestCount)")
        options.measurementRequestCount = measurement.measurementRequestCount
        do {
            if let text = measurement.concurrencyRange { options.concurrencyRange = try RangeParser.concurrency(text) }
        } catch {
            throw OptionError(error.description)
        }
        try resolveLoadMode(into: &options)
        options.binarySearch = measurement.binarySearch
        try NumericBounds.check(measurement.latencyThreshold, in: 0...NumericBounds.maxMilliseconds, flag: "-l",
                                expected: "a latency limit from 0 (none) to \(NumericBounds.maxMilliseconds) msec")
        options.latencyThresholdMs = UInt64(measurement.latencyThreshold)
        if let threads = measurement.maxThreads {
            try NumericBounds.check(threads, in: 1...4096, flag: "--max-threads", expected: "a thread count from 1 to 4096")
            options.maxThreads = threads
            options.maxThreadsGiven = true
        } else if options.loadMode.isScheduled {
            options.maxThreads = 4
        }
        if let spin = measurement.spinBeforeSend {
            guard options.loadMode.isScheduled else {
                throw OptionError("--spin-before-send: only with --request-rate-range or --request-intervals (sends in concurrency mode follow responses, not a schedule)")
            }
            guard (0...1_000_000).contains(spin) else {
                throw OptionError("--spin-before-send \(spin): expected microseconds from 0 to 1000000")
            }
            options.spinBeforeSendUs = UInt64(spin)
        }
        guard measurement.stabilityPercentage >= 0, measurement.stabilityPercentage.isFinite else {
            throw OptionError("-s \(measurement.stabilityPercentage): the stability percentage must be a number >= 0")
        }
        options.stabilityPercentage = measurement.stabilityPercentage
        try NumericBounds.check(measurement.maxTrials, in: 1...NumericBounds.maxRequestCount, flag: "-r",
                                expected: "a number of trials from 1 to \(NumericBounds.maxRequestCount)")
        options.maxTrials = measurement.maxTrials
        // perf_analyzer's own default is -1, meaning the average; scripts pass it explicitly.
        if let percentile = measurement.percentile, percentile != -1 {
            guard (1...99).contains(percentile) else { throw OptionError("--percentile \(percentile): expected a value from 1 to 99") }
            options.percentile = percentile
        }
        try NumericBounds.check(measurement.requestCount, in: 0...NumericBounds.maxRequestCount, flag: "--request-count",
                                expected: "a count from 0 (none) to \(NumericBounds.maxRequestCount)")
        options.requestCount = measurement.requestCount
        try NumericBounds.check(measurement.warmupRequestCount, in: 0...NumericBounds.maxRequestCount, flag: "--warmup-request-count",
                                expected: "a count from 0 to \(NumericBounds.maxRequestCount)")
        options.warmupRequestCount = measurement.warmupRequestCount

        switch options.loadMode {
        case .concurrency: try checkConcurrencySweep(options)
        case .requestRate(let range, _): try checkRateSweep(options, range: range)
        case .requestIntervals: try checkIntervals(options)
        case .fixedSchedule: try checkFixedSchedule(options)
        }

        options.traceSettings = try TraceSettings(levels: trace.traceLevel, rate: trace.traceRate, count: trace.traceCount,
                                                  logFrequency: trace.logFrequency)
        options.csvPath = other.csvFile
        options.verboseCSV = other.verboseCsv
        options.htmlReportPath = other.htmlReport
        if let path = other.profileExportFile {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                throw OptionError(isDirectory.boolValue
                    ? "--profile-export-file \(path): is a directory; name a file that does not exist yet"
                    : "--profile-export-file \(path): the file already exists (the export never overwrites one)")
            }
            options.profileExportPath = path
        }
        if options.tritonCAPI != nil { try checkCAPIRestrictions(options) }
        try resolveOpenAI(into: &options)
        try resolveMPI(into: &options)
        try NumericBounds.check(measurement.requestPeriod, in: 1...NumericBounds.maxRequestCount, flag: "--request-period",
                                expected: "a number of responses from 1 to \(NumericBounds.maxRequestCount)")
        if let text = measurement.periodicConcurrencyRange {
            guard measurement.concurrencyRange == nil, measurement.requestRateRange == nil, measurement.requestIntervals == nil else {
                throw OptionError("--periodic-concurrency-range is a load mode of its own; it cannot be combined with --concurrency-range, --request-rate-range or --request-intervals")
            }
            guard options.streaming else {
                throw OptionError("--periodic-concurrency-range: each request needs a stream of its own; add -i grpc --streaming")
            }
            guard options.profileExportPath != nil else {
                throw OptionError("--periodic-concurrency-range records its run only in the profile export; add --profile-export-file FILE")
            }
            if options.serverMetrics != nil {
                throw OptionError("--collect-metrics: a periodic concurrency run has no levels to report metrics with")
            }
            if options.htmlReportPath != nil {
                throw OptionError("--html-report: a periodic concurrency run has no levels to chart; render its export with perf-analyzer report EXPORT.json -o FILE")
            }
            options.periodicConcurrency = try PeriodicConcurrency(parsing: text, requestPeriod: measurement.requestPeriod)
        }
        return options
    }

    private func checkConcurrencySweep(_ options: PerfAnalyzerOptions) throws(OptionError) {
        let text = measurement.concurrencyRange ?? "1:1:1"
        let range = options.concurrencyRange
        // Each unit of concurrency holds a connection: more than the process may open cannot run.
        let connections = NumericBounds.connectionLimit()
        if max(range.start, range.end) > connections {
            throw OptionError("--concurrency-range \(text): concurrency \(max(range.start, range.end)) needs as many connections, more than this process may open (\(connections): its open-file limit less \(NumericBounds.reservedDescriptors)); raise the limit with ulimit -n")
        }
        if range.isOpenEnded && options.latencyThresholdMs == 0 {
            throw OptionError("--concurrency-range \(text): an open end (0) needs a latency limit (-l) to stop at")
        }
        if options.binarySearch {
            if range.isOpenEnded { throw OptionError("--binary-search needs an end to the concurrency range (end 0 is open)") }
            if options.latencyThresholdMs == 0 { throw OptionError("--binary-search needs a latency limit (-l)") }
        }
        if options.requestCount > 0 {
            if range.end != range.start {
                throw OptionError("--request-count measures one level; give a single --concurrency-range value")
            }
            if options.requestCount < range.start {
                throw OptionError("--request-count \(options.requestCount) is below the concurrency \(range.start)")
            }
        }
        if options.warmupRequestCount > 0, range.end != range.start {
            throw OptionError("--warmup-request-count works with a single --concurrency-range value")
        }
    }

    /// `--bls-composing-models a:3,b`: spaces are dropped, as perf_analyzer drops them.
    static func composingModels(_ text: String) throws(OptionError) -> [ModelDescription.ComposingModel] {
        var models: [ModelDescription.ComposingModel] = []
        for entry in text.filter({ !$0.isWhitespace }).split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let version = parts.count > 1 ? String(parts[1]) : ""
            guard !name.isEmpty else {
                throw OptionError("--bls-composing-models \(text): expected model names, name[:version] separated by commas; found an empty name")
            }
            guard version.allSatisfy(\.isNumber), parts.count == 1 || !version.isEmpty else {
                throw OptionError("--bls-composing-models \(text): the version of '\(name)' must be a number, found '\(version)'")
            }
            let model = ModelDescription.ComposingModel(name: name, version: version)
            if !models.contains(model) { models.append(model) }
        }
        return models
    }

    /// `--input-data` values: one of random, zero or a directory, or any number of JSON files.
    static func inputSource(_ values: [String]) throws(OptionError) -> InputDataSource {
        guard !values.isEmpty else { return .random }
        var files: [String] = []
        for value in values {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory)
            if value == "random" || value == "zero" || (exists && isDirectory.boolValue) {
                guard values.count == 1 else {
                    throw OptionError("--input-data \(value): random, zero and directories cannot be combined with other --input-data values")
                }
                return value == "random" ? .random : (value == "zero" ? .zero : .directory(value))
            }
            guard exists else { throw OptionError("--input-data \(value): no such file or directory") }
            files.append(value)
        }
        return .jsonFiles(files)
    }
}

/// A command-line problem, worded as one line naming the flag.
public struct OptionError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
