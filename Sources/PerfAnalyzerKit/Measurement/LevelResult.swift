/// The measured result of one load level, merged over its stable windows.
public struct LevelResult: Sendable {
    public var level: LoadLevel
    public var client: ClientWindow
    public var server: ServerWindowStats?
    /// Set with `--percentile`; otherwise the average latency is the stabilizing one.
    public var percentile: Int?
    /// With `--collect-metrics`: the server's metrics merged over the reported windows.
    public var serverMetrics: ServerMetrics?
    /// The client process's CPU time (user + system) over the reported windows, ns.
    public var clientCPUNs: UInt64?
    /// Whether the client limited the level, and the figures that say so.
    public var clientHealth: ClientHealth?

    public init(level: LoadLevel, client: ClientWindow, server: ServerWindowStats?, percentile: Int?,
                serverMetrics: ServerMetrics? = nil, clientCPUNs: UInt64? = nil) {
        self.level = level
        self.client = client
        self.server = server
        self.percentile = percentile
        self.serverMetrics = serverMetrics
        self.clientCPUNs = clientCPUNs
    }

    public init(concurrency: Int, client: ClientWindow, server: ServerWindowStats?, percentile: Int?) {
        self.init(level: .concurrency(concurrency), client: client, server: server, percentile: percentile)
    }

    /// The client's CPU time per request measured, ns; nil when not measured or nothing completed.
    public var clientCPUPerRequestNs: UInt64? {
        guard let clientCPUNs, client.requestCount > 0 else { return nil }
        return clientCPUNs / UInt64(client.requestCount)
    }

    /// The latency stability and `-l` were judged on, in ns.
    public var stabilizingLatencyNs: UInt64 {
        percentile.map { client.latencyPercentileNs($0) } ?? client.averageLatencyNs
    }
}

/// What a profiling run produced: the levels reported, and why it ended early if it did.
public struct ProfileOutcome: Sendable {
    public enum Ending: Sendable, Equatable {
        case completed
        /// The first level never stabilized (perf_analyzer exits 2).
        case unstable(String)
        /// A request failed or the server went away (non-zero exit with the server's words).
        case failed(RunFailure)
        /// A window completed no request (perf_analyzer's exit code 3).
        case noValidRequests(String)
        /// The user interrupted the run.
        case interrupted
    }

    public var levels: [LevelResult]
    public var ending: Ending
}
