/// Everything the HTML report draws, computed in Swift: the page's script only turns these
/// numbers into SVG. It travels inside the page as one JSON blob. Times are in µs, truncated
/// as the console truncates them, so a figure on the page equals the console's.
struct HTMLReportModel: Codable, Equatable {
    /// "run" for `--html-report`, "export" for `perf-analyzer report`.
    var source: String
    var model: String
    var serviceKind: String
    /// "concurrency" or "request_rate", as the profile export names the modes.
    var mode: String
    /// What the throughput counts: "infer/sec" in a run, "requests/sec" from an export (which
    /// does not record batch sizes).
    var throughputUnit: String
    /// The latency each window's stability was judged on ("avg" or "p95", say).
    var stabilizingLatency: String
    var stabilityPercentage: Double
    var levels: [Level]

    struct Level: Codable, Equatable {
        /// The level as the console writes it ("4", "100").
        var label: String
        var requests: Int
        var throughput: Double
        var sequenceThroughput: Double?
        var averageUs: UInt64
        var p50Us: UInt64
        var p90Us: UInt64
        var p99Us: UInt64
        var spectrum: [SpectrumPoint]
        var windows: [Window]
        /// ± the stability percentage around the mean of the windows the result merges.
        var band: Band?
        var server: ServerBreakdown?
        var schedule: Schedule?
        var tokens: Tokens?
        /// Whether the client limited the level (runs, and exports of ours; perf_analyzer's have none).
        var health: Health?
    }

    /// `ClientHealth` in the console's words: the `Client health:` line's verdict and figures,
    /// and the `[WARNING]` line's advice.
    struct Health: Codable, Equatable {
        var limited: Bool
        /// What limited it, named as the export and the verbose CSV name them ("cpu", "schedule", ...).
        var limits: [String]
        /// "CPU 9.8% of 2 cores, waiting for a core 3.2%, steal 0.0%"
        var figures: String
        var advice: String?

        init(_ health: ClientHealth) {
            limited = health.isLimited
            limits = health.limits.map(\.name)
            figures = health.figures
            advice = health.advice
        }
    }

    /// One point of a latency percentile spectrum.
    struct SpectrumPoint: Codable, Equatable {
        var percentile: Double
        var latencyUs: Double
    }

    /// One measurement window of a level.
    struct Window: Codable, Equatable {
        var trial: Int
        var throughput: Double
        /// The stabilizing latency of the window.
        var latencyUs: Double
        /// Whether the level's result merges this window (the last three).
        var merged: Bool
    }

    struct Band: Codable, Equatable {
        var throughputLow: Double
        var throughputHigh: Double
        var latencyLowUs: Double
        var latencyHighUs: Double

        /// ± `percentage` around the mean throughput and mean latency of `windows`.
        init?(around windows: [Window], percentage: Double) {
            guard !windows.isEmpty else { return nil }
            let count = Double(windows.count)
            let throughput = windows.map(\.throughput).reduce(0, +) / count
            let latency = windows.map(\.latencyUs).reduce(0, +) / count
            throughputLow = throughput * (1 - percentage / 100)
            throughputHigh = throughput * (1 + percentage / 100)
            latencyLowUs = latency * (1 - percentage / 100)
            latencyHighUs = latency * (1 + percentage / 100)
        }
    }

    /// The server's average time per request, split into its parts.
    struct ServerBreakdown: Codable, Equatable {
        var requestUs: UInt64
        var parts: [Part]

        struct Part: Codable, Equatable {
            var name: String
            var us: UInt64
        }
    }

    /// Scheduled loads: how late sends went out, and latency from the intended send time.
    struct Schedule: Codable, Equatable {
        var sent: Int
        var delayed: Int
        var sendLagP50Us: UInt64
        var sendLagP99Us: UInt64
        var sendLagMaxUs: UInt64
        var fromIntendedP50Us: UInt64
        var fromIntendedP90Us: UInt64
        var fromIntendedP99Us: UInt64
        var fromIntendedSpectrum: [SpectrumPoint]
    }

    /// LLM runs: time to first token, inter-token latency and output token throughput.
    struct Tokens: Codable, Equatable {
        var streamedRequests: Int
        var outputTokens: Int
        var outputTokensPerSecond: Double
        var ttftP50Us: UInt64
        var ttftP90Us: UInt64
        var ttftP99Us: UInt64
        var itlP50Us: UInt64
        var itlP90Us: UInt64
        var itlP99Us: UInt64
    }
}
