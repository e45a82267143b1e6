/// `--collect-metrics`, `--metrics-url` and `--metrics-interval`, resolved.
public struct ServerMetricsOptions: Sendable, Equatable {
    /// Where the Prometheus text is read from.
    public var endpoint: MetricsEndpoint
    /// Time between the starts of two reads, ms.
    public var intervalMs: Int

    public init(endpoint: MetricsEndpoint, intervalMs: Int = 1000) {
        self.endpoint = endpoint
        self.intervalMs = intervalMs
    }
}

extension PerfAnalyzerCommand.Server {
    /// The metrics flags. perf_analyzer refuses a URL or interval without `--collect-metrics`
    /// rather than ignore it; so do we, with one line naming the flag.
    func resolveServerMetrics(into options: inout PerfAnalyzerOptions) throws(OptionError) {
        guard collectMetrics else {
            if metricsUrl != nil {
                throw OptionError("--metrics-url: only with --collect-metrics (it says where to read the server's metrics)")
            }
            if metricsInterval != nil {
                throw OptionError("--metrics-interval: only with --collect-metrics (it says how often to read the server's metrics)")
            }
            return
        }
        let interval = metricsInterval ?? 1000
        try NumericBounds.check(interval, in: 1...NumericBounds.maxMilliseconds, flag: "--metrics-interval",
                                expected: "an interval from 1 to \(NumericBounds.maxMilliseconds) msec")
        let endpoint: MetricsEndpoint
        do {
            endpoint = try metricsUrl.map { text throws(MetricsEndpoint.ParseError) in try MetricsEndpoint(parsing: text) }
                ?? MetricsEndpoint.defaultFor(serverURL: options.url)
        } catch {
            throw OptionError(error.description)
        }
        options.serverMetrics = ServerMetricsOptions(endpoint: endpoint, intervalMs: interval)
    }
}
