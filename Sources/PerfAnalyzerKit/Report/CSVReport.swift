import Foundation

/// perf_analyzer's CSV file: the same header, column order and row order (by throughput),
/// so Model Analyzer and spreadsheets read ours the same way.
public struct CSVReport: Sendable {
    public var percentile: Int?
    public var verbose: Bool
    public var serverStatistics: Bool
    /// Adds perf_analyzer's "Response Throughput" column after the throughput.
    public var isDecoupled: Bool
    /// Request-rate and interval runs: the first column is the rate, and `--verbose-csv` adds
    /// the send lag and the latency from the intended send time after perf_analyzer's columns.
    public var isScheduled: Bool
    /// The model (or a composing model) has the response cache on: perf_analyzer's
    /// "Server Cache Hit" and "Server Cache Miss" columns follow the compute columns.
    public var responseCache: Bool
    /// `--collect-metrics`: with `--verbose-csv`, perf_analyzer's four GPU columns and our two
    /// server CPU columns.
    public var serverMetrics: Bool

    public init(percentile: Int?, verbose: Bool, serverStatistics: Bool, isDecoupled: Bool = false, isScheduled: Bool = false,
                responseCache: Bool = false, serverMetrics: Bool = false) {
        self.percentile = percentile
        self.verbose = verbose
        self.serverStatistics = serverStatistics
        self.isDecoupled = isDecoupled
        self.isScheduled = isScheduled
        self.responseCache = responseCache
        self.serverMetrics = serverMetrics
    }

    private var cacheColumns: [String] { responseCache ? ["Server Cache Hit", "Server Cache Miss"] : [] }

    private func cacheCells(_ server: ServerModelStats) -> [String] {
        responseCache ? [String(server.averageCacheHitUs), String(server.averageCacheMissUs)] : []
    }

    static let scheduleColumns = ["Send Lag p50", "Send Lag p99", "Send Lag Max", "p50 latency from intended send", "p99 latency from intended send"]
    /// perf_analyzer's, right after `response wait`.
    static let gpuColumns = ["Avg GPU Utilization", "Avg GPU Power Usage", "Max GPU Memory Usage", "Total GPU Memory"]
    /// Ours, after every perf_analyzer column.
    static let serverCPUColumns = ["Avg Server CPU Utilization", "Max Server CPU Memory"]
    static let clientCPUColumn = "Client CPU per Request"
    /// Ours, last: whether the client limited the level (percentages, and what limited it or "no").
    static let clientHealthColumns = ["Client CPU Utilization", "Client Run Queue Wait", "Client Steal", "Client Limited"]

    private var levelColumn: String { isScheduled ? "Request Rate" : "Concurrency" }

    public var header: String {
        var columns = [levelColumn, "Inferences/Second"]
        if isDecoupled { columns.append("Response Throughput") }
        columns.append("Client Send")
        if serverStatistics {
            columns += ["Network+Server Send/Recv", "Server Queue", "Server Compute Input", "Server Compute Infer", "Server Compute Output"]
            columns += cacheColumns
        }
        columns.append("Client Recv")
        columns += ConsoleReport.reportedPercentiles(percentile).map { "p\($0) latency" }
        if verbose {
            if percentile == nil { columns.append("Avg latency") }
            columns += ["request/response", "response wait"]
            if serverMetrics { columns += Self.gpuColumns + Self.serverCPUColumns }
            columns.append(Self.clientCPUColumn)
            if isScheduled { columns += Self.scheduleColumns }
            columns += Self.clientHealthColumns
        }
        return columns.joined(separator: ",")
    }

    static func clientHealthCells(_ health: ClientHealth?) -> [String] {
        func percent(_ fraction: Double?) -> String { fraction.map { String(format: "%.1f", $0 * 100) } ?? "" }
        guard let health else { return ["", "", "", ""] }
        return [percent(health.cpuUtilization), percent(health.runQueueWaitFraction), percent(health.stealFraction),
                health.isLimited ? health.limits.map(\.name).joined(separator: ";") : "no"]
    }

    public func row(_ level: LevelResult) -> String {
        let client = level.client
        let split = ClientTimeSplit(client)
        var cells = [level.level.value, formatG(client.throughput)]
        if isDecoupled { cells.append(formatG(client.responseThroughput)) }
        cells.append(String(client.averageSendNs / 1000))
        if serverStatistics {
            let server = level.server?.model ?? ServerModelStats(name: "", version: "")
            cells.append(String(networkAndServerSendReceiveUs(client: client, server: server)))
            cells.append(String(server.averageQueueUs))
            cells.append(String(server.averageComputeInputUs))
            cells.append(String(server.averageComputeInferUs))
            cells.append(String(server.averageComputeOutputUs))
            cells += cacheCells(server)
        }
        cells.append(String(client.averageReceiveNs / 1000))
        for percentile in ConsoleReport.reportedPercentiles(percentile) {
            cells.append(String(client.latencyPercentileNs(percentile) / 1000))
        }
        if verbose {
            if percentile == nil { cells.append(String(client.averageLatencyNs / 1000)) }
            cells.append(String(split.sendUs + split.receiveUs))
            cells.append(String(split.waitUs))
            if serverMetrics { cells += Self.serverMetricsCells(level.serverMetrics ?? ServerMetrics(merging: [])) }
            cells.append(level.clientCPUPerRequestNs.map { String($0 / 1000) } ?? "")
            if isScheduled {
                let schedule = client.schedule ?? ScheduleFigures()
                cells += [schedule.sendLagPercentileNs(50), schedule.sendLagPercentileNs(99), schedule.maxSendLagNs,
                          schedule.latencyFromIntendedPercentileNs(50), schedule.latencyFromIntendedPercentileNs(99)].map { String($0 / 1000) }
            }
            cells += Self.clientHealthCells(level.clientHealth)
        }
        return cells.joined(separator: ",")
    }

    /// perf_analyzer's GPU cells, `uuid:value;` per GPU sorted by UUID (utilization as a fraction,
    /// power in watts, memory in bytes), then the server's CPU utilization (a fraction) and
    /// memory (bytes), empty when its metrics lack them.
    static func serverMetricsCells(_ metrics: ServerMetrics) -> [String] {
        func cell<Value>(_ values: [String: Value], _ text: (Value) -> String) -> String {
            values.keys.sorted().map { "\($0):\(text(values[$0]!));" }.joined()
        }
        return [
            cell(metrics.gpuUtilization, formatG),
            cell(metrics.gpuPowerWatts, formatG),
            cell(metrics.gpuMemoryUsedBytes) { String($0) },
            cell(metrics.gpuMemoryTotalBytes) { String($0) },
            metrics.cpuUtilization.map(formatG) ?? "",
            metrics.cpuMemoryUsedBytes.map { String($0) } ?? "",
        ]
    }

    /// The client's wait that the server's queue and compute times do not account for.
    func networkAndServerSendReceiveUs(client: ClientWindow, server: ServerModelStats) -> UInt64 {
        let wait = client.averageLatencyNs &- min(client.averageLatencyNs, client.averageSendNs + client.averageReceiveNs)
        let accounted = server.averageAccountedNs
        return wait > accounted ? (wait - accounted) / 1000 : 0
    }

    /// The whole file: header, then rows from lowest to highest throughput.
    public func document(_ levels: [LevelResult]) -> String {
        let sorted = levels.sorted { $0.client.throughput < $1.client.throughput }
        return ([header] + sorted.map(row)).joined(separator: "\n") + "\n"
    }

    /// One file per composing model of an ensemble, as perf_analyzer writes them.
    public func composingDocuments(_ levels: [LevelResult]) -> [(name: String, version: String, text: String)] {
        guard serverStatistics, let first = levels.first?.server, !first.composing.isEmpty else { return [] }
        let sorted = levels.sorted { $0.client.throughput < $1.client.throughput }
        var documents: [(String, String, String)] = []
        for (index, part) in first.composing.enumerated() {
            let columns = [levelColumn, "Inferences/Second", "Client Send", "Network+Server Send/Recv", "Server Queue", "Server Compute Input",
                           "Server Compute Infer", "Server Compute Output"] + cacheColumns + ["Client Recv"]
            var lines = [columns.joined(separator: ",")]
            for level in sorted {
                guard let server = level.server, index < server.composing.count else { continue }
                let stats = server.composing[index]
                let ratio = server.model.successCount > 0 ? Double(stats.successCount) / Double(server.model.successCount) : 0
                let requestNs = stats.averageRequestNs
                let accounted = stats.averageAccountedNs
                let overhead = requestNs > accounted ? (requestNs - accounted) / 1000 : 0
                let cells = [level.level.value, formatG(ratio * level.client.throughput), "0", String(overhead), String(stats.averageQueueUs),
                             String(stats.averageComputeInputUs), String(stats.averageComputeInferUs), String(stats.averageComputeOutputUs)]
                    + cacheCells(stats) + ["0"]
                lines.append(cells.joined(separator: ","))
            }
            documents.append((part.name, part.version, lines.joined(separator: "\n") + "\n"))
        }
        return documents
    }

    /// Writes the file and the composing-model files beside it (`<model>_v<version>.<name>`).
    public func write(_ levels: [LevelResult], to path: String) throws {
        try document(levels).write(toFile: path, atomically: true, encoding: .utf8)
        let url = URL(fileURLWithPath: path)
        for document in composingDocuments(levels) {
            let name = "\(document.name)_v\(document.version).\(url.lastPathComponent)"
            try document.text.write(to: url.deletingLastPathComponent().appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }
}
