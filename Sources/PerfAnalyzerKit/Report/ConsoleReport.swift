/// perf_analyzer's console layout: the settings block, one block per reported level,
/// and the closing throughput-versus-latency table.
public struct ConsoleReport: Sendable {
    public var context: RunContext

    public init(context: RunContext) {
        self.context = context
    }

    private var isAsync: Bool { context.isAsync }
    private var serverStatistics: Bool { context.serverStatistics }
    private var isDecoupled: Bool { context.isDecoupled }
    private var isSequence: Bool { context.isSequence }

    /// Each method returns whole lines without the final newline; the printer adds it.
    public func settingsBlock() -> String {
        var lines = ["*** Measurement Settings ***"]
        // perf_analyzer shows it for the triton kind, and for others when -b is given.
        if context.serviceKind == "triton" || context.batchSize != 1 { lines.append("  Batch size: \(context.batchSize)") }
        lines.append("  Service Kind: \(context.serviceKind.uppercased())")
        if context.warmupRequestCount > 0 {
            lines.append("  Sending \(context.warmupRequestCount) warmup request\(context.warmupRequestCount > 1 ? "s" : "")")
        }
        if context.requestCount > 0 {
            lines.append("  Sending \(context.requestCount) benchmark request\(context.requestCount > 1 ? "s" : "")")
        } else {
            lines.append("  Using \"\(context.measurementMode.rawValue)\" mode for stabilization")
            let metric = isAsync ? "throughput" : "latency and throughput"
            if let percentile = context.percentile {
                lines.append("  Stabilizing using p\(percentile) \(metric)")
            } else {
                lines.append("  Stabilizing using average \(metric)")
            }
            if context.measurementMode == .timeWindows {
                lines.append("  Measurement window: \(context.windowMs) msec")
            } else {
                lines.append("  Minimum number of samples in each window: \(context.windowRequestCount)")
            }
        }
        // Limits are shown for sweeps only (a single level has nothing to stop).
        switch context.loadMode {
        case .concurrency:
            let range = context.concurrencyRange
            if range.end != range.start {
                lines.append("  Latency limit: \(context.latencyLimitMs) msec")
                if range.end != 0 {
                    lines.append("  Concurrency limit: \(max(range.start, range.end)) concurrent requests")
                }
            }
        case .requestRate(let range, let distribution):
            if range.end != range.start {
                lines.append("  Latency limit: \(context.latencyLimitMs) msec")
                if range.end != 0 {
                    lines.append("  Request Rate limit: \(formatG(max(range.start, range.end))) requests per seconds")
                }
            }
            lines.append(distribution == .poisson ? "  Using poisson distribution on request generation"
                                                  : "  Using uniform distribution on request generation")
        case .requestIntervals, .fixedSchedule:
            break
        }
        if context.spinBeforeSendUs > 0 {
            lines.append("  Waking \(context.spinBeforeSendUs) usec before each send and polling until it is due")
        }
        if context.binarySearch { lines.append("  Using Binary Search algorithm") }
        lines.append(isAsync ? "  Using asynchronous calls for inference" : "  Using synchronous calls for inference")
        if isDecoupled { lines.append("  Detected decoupled model, using the first response for measuring latency") }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// The Client and Server sections of one reported level.
    public func levelBlock(_ result: LevelResult) -> String {
        let client = result.client
        var lines = ["  Client: "]
        lines.append("    Request count: \(client.requestCount)")
        if let schedule = client.schedule, schedule.delayedPercent > 1 {
            let sendRate = client.durationNs > 0 ? Double(schedule.sentCount) * 1e9 / Double(client.durationNs) : 0
            lines.append("    Avg send request rate: \(String(format: "%.2f", sendRate)) infer/sec")
            lines.append("    [WARNING] Perf Analyzer was not able to keep up with the desired request rate. \(String(format: "%.2f", schedule.delayedPercent))% of the requests were delayed. ")
        }
        if isSequence {
            lines.append("    Sequence count: \(client.sequenceCount) (\(formatG(client.sequenceThroughput)) seq/sec)")
        }
        lines.append("    Throughput: \(formatG(client.throughput)) infer/sec")
        if isDecoupled { lines.append("    Response Throughput: \(formatG(client.responseThroughput)) infer/sec") }
        if context.verbosity > 0 {
            lines.append("    Avg client overhead: \(String(format: "%.2f", client.clientOverheadPercent))%")
        }
        if context.percentile == nil {
            lines.append("    Avg latency: \(client.averageLatencyNs / 1000) usec (standard deviation \(UInt64(client.latencyStandardDeviationUs)) usec)")
        }
        let percentiles = Self.reportedPercentiles(context.percentile)
        for (percentile, latency) in zip(percentiles, client.latencyPercentilesNs(percentiles)) {
            lines.append("    p\(percentile) latency: \(latency / 1000) usec")
        }
        lines.append(clientTimeLine(ClientTimeSplit(client)))
        if let schedule = client.schedule {
            lines.append(contentsOf: Self.scheduleLines(schedule))
        }
        if let cpu = result.clientCPUPerRequestNs {
            lines.append(Self.clientCPULine(cpuPerRequestNs: cpu))
        }
        if let health = result.clientHealth {
            lines.append(Self.clientHealthLine(health))
        }
        if context.reportsTokens, let tokens = client.tokens {
            lines.append(contentsOf: TokenReport(tokens: tokens, client: client, goodput: context.goodput, tokenPerResponse: context.serviceKind != "openai").consoleLines())
        }
        if serverStatistics, let server = result.server {
            lines.append("  Server: ")
            lines.append(contentsOf: serverLines(server.model, composing: server.composing, indent: "    "))
        }
        if context.collectsServerMetrics {
            lines.append("  Server Prometheus Metrics: ")
            lines.append(contentsOf: Self.serverMetricsLines(result.serverMetrics ?? ServerMetrics(merging: [])))
        }
        if client.clientOverheadPercent > Self.overloadedClientPercent {
            lines.append("[WARNING] Perf Analyzer is not able to keep up with the desired load. The results may not be accurate.")
        }
        if let advice = result.clientHealth?.advice {
            lines.append("[WARNING] \(advice)")
        }
        return lines.joined(separator: "\n")
    }

    /// Busier than this, the load threads may have held requests back (perf_analyzer's threshold).
    static let overloadedClientPercent = 50.0

    /// Beyond perf_analyzer (perf_analyzer#326): what a request cost this process in CPU time.
    static func clientCPULine(cpuPerRequestNs: UInt64) -> String {
        "    Client CPU per request: \(cpuPerRequestNs / 1000) usec (user + system time of this process)"
    }

    /// Beyond perf_analyzer: whether the client, not the server, limited the level.
    static func clientHealthLine(_ health: ClientHealth) -> String {
        "    Client health: \(health.isLimited ? "LIMITED" : "ok") (\(health.figures))"
    }

    /// Most GPUs listed one by one; with more, the CSV has them.
    static let maxGPUsListed = 16

    /// perf_analyzer's per-GPU sections (sorted by GPU UUID), then ours: the server's CPU
    /// utilization and memory, when its metrics carry them.
    static func serverMetricsLines(_ metrics: ServerMetrics) -> [String] {
        var lines: [String] = []
        if metrics.gpuCount > maxGPUsListed {
            lines.append("    \(metrics.gpuCount) GPUs, too many to list here: -f with --verbose-csv writes each GPU's figures")
        } else {
            func section<Value>(_ title: String, _ values: [String: Value], _ text: (Value) -> String) {
                lines.append("    \(title):")
                for uuid in values.keys.sorted() { lines.append("      \(uuid) : \(text(values[uuid]!))") }
            }
            section("Avg GPU Utilization", metrics.gpuUtilization) { "\(formatG($0 * 100))%" }
            section("Avg GPU Power Usage", metrics.gpuPowerWatts) { "\(formatG($0)) watts" }
            section("Max GPU Memory Usage", metrics.gpuMemoryUsedBytes) { "\($0) bytes" }
            section("Total GPU Memory", metrics.gpuMemoryTotalBytes) { "\($0) bytes" }
        }
        if let cpu = metrics.cpuUtilization { lines.append("    Avg CPU Utilization: \(formatG(cpu * 100))%") }
        if let memory = metrics.cpuMemoryUsedBytes { lines.append("    Max CPU Memory Usage: \(memory) bytes") }
        return lines
    }

    /// Beyond perf_analyzer: how late sends went out, and the latency counted from when each
    /// request was meant to go, which keeps waits inside the client in view.
    static func scheduleLines(_ schedule: ScheduleFigures) -> [String] {
        let lag = [50.0, 99.0].map { schedule.sendLagPercentileNs($0) / 1000 }
        let fromIntended = schedule.latencyFromIntendedNs.summary(percentiles: [50, 90, 95, 99]).values.map { $0 / 1000 }
        return [
            "    Send lag: p50 \(lag[0]) usec, p99 \(lag[1]) usec, max \(schedule.maxSendLagNs / 1000) usec (\(schedule.delayedCount) of \(schedule.sentCount) sends more than 1 msec late)",
            "    Latency from intended send time: p50 \(fromIntended[0]) usec, p90 \(fromIntended[1]) usec, p95 \(fromIntended[2]) usec, p99 \(fromIntended[3]) usec",
        ]
    }

    /// How the client spent a request's time, in perf_analyzer's words for each protocol;
    /// a decoupled model's requests have no single response to split, and an in-process run no
    /// protocol to split it by, so the line is blank, as perf_analyzer leaves it.
    private func clientTimeLine(_ split: ClientTimeSplit) -> String {
        if isDecoupled || context.serviceKind == "triton_c_api" { return "    " }
        switch (context.wireProtocol, context.verbosity > 0) {
        case (.http, true):
            return "    Avg HTTP time: \(split.requestUs) usec (send \(split.sendUs) usec + response wait \(split.waitUs) usec + receive \(split.receiveUs) usec)"
        case (.http, false):
            return "    Avg HTTP time: \(split.requestUs) usec (send/recv \(split.sendUs + split.receiveUs) usec + response wait \(split.waitUs) usec)"
        case (.grpc, true):
            return "    Avg gRPC time: \(split.requestUs) usec (marshal \(split.sendUs) usec + response wait \(split.waitUs) usec + unmarshal \(split.receiveUs) usec)"
        case (.grpc, false):
            return "    Avg gRPC time: \(split.requestUs) usec ((un)marshal request/response \(split.sendUs + split.receiveUs) usec + response wait \(split.waitUs) usec)"
        }
    }

    private func serverLines(_ stats: ServerModelStats, composing: [ServerModelStats], indent: String) -> [String] {
        if stats.successCount == 0 { return ["\(indent)Request count: 0"] }
        let cache = context.responseCache
        var lines = [
            "\(indent)Inference count: \(stats.inferenceCount)",
            "\(indent)Execution count: \(stats.executionCount)",
        ]
        if cache {
            lines.append("\(indent)Cache hit count: \(stats.cacheHitCount)")
            lines.append("\(indent)Cache miss count: \(stats.cacheMissCount)")
        }
        lines.append("\(indent)Successful request count: \(stats.successCount)")
        // perf_analyzer sets the cache latencies further in: two steps more per nesting level.
        let cacheIndent = String(repeating: " ", count: max(0, indent.count - 2) * 2 + 2)
        func minus(_ total: UInt64, _ parts: UInt64) -> UInt64 { total > parts ? total - parts : 0 }
        if composing.isEmpty {
            if cache {
                let answer = stats.averageCacheOrComputeUs
                lines.append("\(indent)Avg request latency: \(stats.averageRequestUs) usec (overhead \(minus(stats.averageRequestUs, stats.averageQueueUs + answer)) usec + queue \(stats.averageQueueUs) usec + cache hit/miss \(answer) usec)")
                lines.append("\(cacheIndent)Average Cache Hit Latency: \(stats.averageCacheHitUs) usec")
                lines.append("\(cacheIndent)Average Cache Miss Latency: \(stats.averageCacheMissUs + stats.averageComputeUs) usec (cache lookup/insertion \(stats.averageCacheMissUs) usec + compute input \(stats.averageComputeInputUs) usec + compute infer \(stats.averageComputeInferUs) usec + compute output \(stats.averageComputeOutputUs) usec)")
            } else {
                lines.append("\(indent)Avg request latency: \(stats.averageRequestUs) usec (overhead \(stats.averageOverheadUs) usec + queue \(stats.averageQueueUs) usec + compute input \(stats.averageComputeInputUs) usec + compute infer \(stats.averageComputeInferUs) usec + compute output \(stats.averageComputeOutputUs) usec)")
            }
            lines.append("")
            return lines
        }
        // An ensemble (or a BLS model) is reported as the sum of its steps' times.
        let queue = composing.reduce(0) { $0 + $1.averageQueueUs }
        let compute = composing.reduce(0) { $0 + $1.averageComputeUs }
        if cache {
            let answer = composing.reduce(0) { $0 + $1.averageCacheOrComputeUs }
            let hit = composing.reduce(stats.averageCacheHitUs) { $0 + $1.averageCacheHitUs }
            let miss = composing.reduce(stats.averageCacheMissUs) { $0 + $1.averageCacheMissUs }
            // With the cache on the ensemble itself, a hit skips the steps: no split to give.
            lines.append(context.topLevelResponseCache ? "\(indent)Avg request latency: \(stats.averageRequestUs) usec"
                : "\(indent)Avg request latency: \(stats.averageRequestUs) usec (overhead \(minus(stats.averageRequestUs, queue + answer)) usec + queue \(queue) usec + cache hit/miss \(answer) usec)")
            lines.append("\(cacheIndent)Average Cache Hit Latency: \(hit) usec")
            lines.append("\(cacheIndent)Average Cache Miss Latency: \(miss + compute) usec ")
        } else {
            lines.append("\(indent)Avg request latency: \(stats.averageRequestUs) usec (overhead \(minus(stats.averageRequestUs, queue + compute)) usec + queue \(queue) usec + compute \(compute) usec)")
        }
        lines.append("")
        lines.append("  Composing models: ")
        for part in composing {
            lines.append("  \(part.name), version: \(part.version)")
            lines.append(contentsOf: serverLines(part, composing: [], indent: "      "))
        }
        return lines
    }

    /// The closing table, one line per reported level in the order measured.
    public func summary(_ levels: [LevelResult]) -> String {
        let title = context.percentile.map { "Inferences/Second vs. Client p\($0) Batch Latency" }
            ?? "Inferences/Second vs. Client Average Batch Latency"
        var lines = [title]
        for level in levels {
            let name = context.loadMode.isScheduled ? "Request Rate" : "Concurrency"
            lines.append("\(name): \(level.level.value), throughput: \(formatG(level.client.throughput)) infer/sec, latency \(level.stabilizingLatencyNs / 1000) usec")
        }
        return lines.joined(separator: "\n")
    }

    /// perf_analyzer's `-v` line for one window.
    public func passLine(_ window: MeasuredWindow) -> String {
        let client = window.client
        let throughput = formatG(client.throughput)
        if let percentile = context.percentile {
            return "  Pass [\(window.trial)] throughput: \(throughput) infer/sec. p\(percentile) latency: \(client.latencyPercentileNs(percentile) / 1000) usec"
        }
        return "  Pass [\(window.trial)] throughput: \(throughput) infer/sec. Avg latency: \(client.averageLatencyNs / 1000) usec (std \(UInt64(client.latencyStandardDeviationUs)) usec). "
    }

    /// The line perf_analyzer prints when a level ends without a result.
    public func shortfallLine(_ level: LoadLevel, _ shortfall: LevelShortfall) -> String {
        switch shortfall {
        case .overLatencyLimit:
            return "Measured latency went over the set limit of \(context.latencyLimitMs) msec. "
        case .unstable:
            let hint = context.measurementMode == .countWindows ? "--measurement-request-count" : "--measurement-interval"
            return "Failed to obtain stable measurement within \(context.maxTrials) measurement windows for \(level.phrase). Please try to increase the \(hint)."
        }
    }

    /// 50, 90, 95, 99, with `--percentile` merged in order.
    static func reportedPercentiles(_ extra: Int?) -> [Int] {
        var set: Set<Int> = [50, 90, 95, 99]
        if let extra { set.insert(extra) }
        return set.sorted()
    }
}

/// A request's average time split as perf_analyzer reports it, in whole µs.
struct ClientTimeSplit {
    var requestUs: UInt64
    var sendUs: UInt64
    var receiveUs: UInt64
    var waitUs: UInt64

    init(_ window: ClientWindow) {
        requestUs = window.averageLatencyNs / 1000
        sendUs = window.averageSendNs / 1000
        receiveUs = window.averageReceiveNs / 1000
        let busy = sendUs + receiveUs
        waitUs = requestUs > busy ? requestUs - busy : 0
    }
}
