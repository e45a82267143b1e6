import Histogram

/// The report of a live run: each level from its merged result and the windows it measured.
extension HTMLReportModel {
    /// `windows`: each measured level's windows, in the order they were measured.
    init(context: RunContext, levels: [LevelResult], windows: [(level: LoadLevel, windows: [MeasuredWindow])]) {
        source = "run"
        model = context.modelName
        serviceKind = context.serviceKind
        mode = {
            switch context.loadMode {
            case .concurrency: return "concurrency"
            case .requestRate, .requestIntervals, .fixedSchedule: return "request_rate"
            }
        }()
        throughputUnit = "infer/sec"
        stabilizingLatency = context.percentile.map { "p\($0)" } ?? "avg"
        stabilityPercentage = context.stabilityPercentage
        self.levels = levels.map { result in
            // The last attempt at the level is the one its result came from.
            Level(result: result, windows: windows.last { $0.level == result.level }?.windows ?? [], context: context)
        }
    }
}

extension HTMLReportModel.Level {
    init(result: LevelResult, windows measured: [MeasuredWindow], context: RunContext) {
        let client = result.client
        label = result.level.value
        requests = client.requestCount
        throughput = client.throughput
        sequenceThroughput = context.isSequence ? client.sequenceThroughput : nil
        averageUs = client.averageLatencyNs / 1000
        p50Us = client.latencyPercentileNs(50) / 1000
        p90Us = client.latencyPercentileNs(90) / 1000
        p99Us = client.latencyPercentileNs(99) / 1000
        spectrum = LatencySpectrum.points(client.latencyNs)
        let mergedFrom = max(0, measured.count - Stability.windowCount)
        windows = measured.enumerated().map { index, window in
            HTMLReportModel.Window(trial: window.trial, throughput: window.client.throughput,
                                   latencyUs: Double(window.stabilizingLatencyNs) / 1000, merged: index >= mergedFrom)
        }
        band = HTMLReportModel.Band(around: windows.filter(\.merged), percentage: context.stabilityPercentage)
        server = context.serverStatistics ? result.server.map { HTMLReportModel.ServerBreakdown($0.model) } : nil
        schedule = client.schedule.map { HTMLReportModel.Schedule($0) }
        tokens = context.reportsTokens ? client.tokens.map { HTMLReportModel.Tokens($0, durationNs: client.durationNs) } : nil
        health = result.clientHealth.map(HTMLReportModel.Health.init)
    }
}

extension HTMLReportModel.ServerBreakdown {
    /// The parts of the console's `Avg request latency` line.
    init(_ stats: ServerModelStats) {
        requestUs = stats.averageRequestUs
        var parts = [Part(name: "overhead", us: stats.averageOverheadUs), Part(name: "queue", us: stats.averageQueueUs),
                     Part(name: "compute input", us: stats.averageComputeInputUs), Part(name: "compute infer", us: stats.averageComputeInferUs),
                     Part(name: "compute output", us: stats.averageComputeOutputUs)]
        if stats.cacheHitCount + stats.cacheMissCount > 0 {
            parts.append(Part(name: "cache hit", us: stats.averageCacheHitUs))
            parts.append(Part(name: "cache miss", us: stats.averageCacheMissUs))
        }
        self.parts = parts
    }
}

extension HTMLReportModel.Schedule {
    init(_ figures: ScheduleFigures) {
        sent = figures.sentCount
        delayed = figures.delayedCount
        sendLagP50Us = figures.sendLagPercentileNs(50) / 1000
        sendLagP99Us = figures.sendLagPercentileNs(99) / 1000
        sendLagMaxUs = figures.maxSendLagNs / 1000
        fromIntendedP50Us = figures.latencyFromIntendedPercentileNs(50) / 1000
        fromIntendedP90Us = figures.latencyFromIntendedPercentileNs(90) / 1000
        fromIntendedP99Us = figures.latencyFromIntendedPercentileNs(99) / 1000
        fromIntendedSpectrum = LatencySpectrum.points(figures.latencyFromIntendedNs)
    }
}

extension HTMLReportModel.Tokens {
    init(_ window: TokenWindow, durationNs: UInt64) {
        func at(_ histogram: Histogram<UInt64>, _ percentile: Double) -> UInt64 {
            histogram.totalCount > 0 ? histogram.valueAt(percentile: percentile) / 1000 : 0
        }
        streamedRequests = window.streamedRequests
        outputTokens = window.outputTokens
        outputTokensPerSecond = window.outputTokenThroughput(durationNs: durationNs)
        ttftP50Us = at(window.timeToFirstTokenNs, 50)
        ttftP90Us = at(window.timeToFirstTokenNs, 90)
        ttftP99Us = at(window.timeToFirstTokenNs, 99)
        itlP50Us = at(window.interTokenLatencyNs, 50)
        itlP90Us = at(window.interTokenLatencyNs, 90)
        itlP99Us = at(window.interTokenLatencyNs, 99)
    }
}
