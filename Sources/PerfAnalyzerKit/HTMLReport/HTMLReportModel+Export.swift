import Foundation
import Histogram

/// The report of a profile export, computed from its requests: a request belongs to the window
/// its answer completed in, and a level's figures are those of its last three windows (the ones
/// a run merges), so they match what the run printed. An export records no batch sizes, server
/// statistics or schedule: throughput is in requests per second, and those sections are omitted.
/// Client health comes from ours (`client_health`), judged again from its figures.
extension HTMLReportModel {
    /// `name`: what the page is titled with (an export does not name its model).
    init(export: ProfileExportDocument, name: String, stabilityPercentage: Double) {
        source = "export"
        serviceKind = export.service_kind ?? "triton"
        model = name
        mode = export.experiments.first?.experiment.mode ?? "concurrency"
        throughputUnit = "requests/sec"
        stabilizingLatency = "avg"
        self.stabilityPercentage = stabilityPercentage
        let openAI = serviceKind == "openai"
        levels = export.experiments.map { Level(experiment: $0, openAI: openAI, stabilityPercentage: stabilityPercentage) }
    }
}

extension HTMLReportModel.Level {
    init(experiment: ProfileExportDocument.Experiment, openAI: Bool, stabilityPercentage: Double) {
        let value = experiment.experiment.value
        label = experiment.experiment.mode == "concurrency" ? String(Int(value)) : formatG(value)
        // A stream's answer ends at its last event; a decoupled model's latency runs to its first response.
        let ends = experiment.requests.map { openAI ? $0.response_timestamps.last : $0.response_timestamps.first }
        var bounds = experiment.window_boundaries
        if bounds.count < 2 || bounds == [0, .max] {
            // Periodic concurrency: one window over the whole run; its span is the requests'.
            let ended = ends.compactMap { $0 }
            bounds = [experiment.requests.map(\.timestamp).min() ?? 0, (ended.max() ?? 0) + 1]
        }
        let windowCount = bounds.count - 1
        let mergedFrom = max(0, windowCount - Stability.windowCount)
        var perWindow = [(count: Int, latencySumNs: UInt64)](repeating: (0, 0), count: windowCount)
        var latencies = Histogram<UInt64>.emptyLatency
        var latencySumNs: UInt64 = 0
        var merged: [Int] = []
        for (index, request) in experiment.requests.enumerated() {
            guard let end = ends[index], end >= bounds[0], end < bounds[windowCount] else { continue }
            // The window whose [start, end) holds the answer's end.
            var low = 0, high = windowCount - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if bounds[middle] <= end { low = middle } else { high = middle - 1 }
            }
            let latency = end > request.timestamp ? end - request.timestamp : 0
            perWindow[low].count += 1
            perWindow[low].latencySumNs &+= latency
            if low >= mergedFrom {
                merged.append(index)
                _ = latencies.record(min(max(latency, 1), ClientWindow.maxTrackableLatencyNs))
                latencySumNs &+= latency
            }
        }
        windows = perWindow.enumerated().map { index, window in
            let duration = Double(bounds[index + 1] - bounds[index])
            return HTMLReportModel.Window(trial: index + 1, throughput: duration > 0 ? Double(window.count) * 1e9 / duration : 0,
                                          latencyUs: window.count > 0 ? Double(window.latencySumNs / UInt64(window.count)) / 1000 : 0,
                                          merged: index >= mergedFrom)
        }
        band = HTMLReportModel.Band(around: windows.filter(\.merged), percentage: stabilityPercentage)
        let durationNs = bounds[windowCount] - bounds[mergedFrom]
        requests = merged.count
        throughput = durationNs > 0 ? Double(merged.count) * 1e9 / Double(durationNs) : 0
        sequenceThroughput = nil
        averageUs = merged.isEmpty ? 0 : latencySumNs / UInt64(merged.count) / 1000
        let at = { (percentile: Double) in merged.isEmpty ? 0 : latencies.valueAt(percentile: percentile) / 1000 }
        p50Us = at(50)
        p90Us = at(90)
        p99Us = at(99)
        spectrum = LatencySpectrum.points(latencies)
        server = nil
        schedule = nil
        tokens = openAI ? HTMLReportModel.Tokens(requests: merged.map { experiment.requests[$0] }, durationNs: durationNs) : nil
        health = experiment.client_health.map { HTMLReportModel.Health($0.health) }
    }
}

extension HTMLReportModel.Tokens {
    /// From the events each OpenAI answer recorded: the first with content is the first token,
    /// every later one with content a gap; output tokens from the usage block when there is one.
    init(requests: [ProfileExportDocument.Request], durationNs: UInt64) {
        var firstToken = Histogram<UInt64>.emptyLatency
        var gaps = Histogram<UInt64>.emptyLatency
        var streamed = 0
        var tokens = 0
        for request in requests {
            let outputs = request.response_outputs ?? []
            var contentTimes: [UInt64] = []
            var usage: Int?
            for (index, time) in request.response_timestamps.enumerated() where index < outputs.count {
                let facts = ServerSentEventFacts(outputs[index].response ?? "")
                if facts.hasContent { contentTimes.append(time) }
                if let count = facts.completionTokens { usage = count }
            }
            tokens += usage ?? contentTimes.count
            guard request.response_timestamps.count > 1, let first = contentTimes.first else { continue }
            streamed += 1
            _ = firstToken.record(max(1, first > request.timestamp ? first - request.timestamp : 0))
            for (earlier, later) in zip(contentTimes, contentTimes.dropFirst()) { _ = gaps.record(max(1, later - earlier)) }
        }
        func at(_ histogram: Histogram<UInt64>, _ percentile: Double) -> UInt64 {
            histogram.totalCount > 0 ? histogram.valueAt(percentile: percentile) / 1000 : 0
        }
        streamedRequests = streamed
        outputTokens = tokens
        outputTokensPerSecond = durationNs > 0 ? Double(tokens) * 1e9 / Double(durationNs) : 0
        ttftP50Us = at(firstToken, 50)
        ttftP90Us = at(firstToken, 90)
        ttftP99Us = at(firstToken, 99)
        itlP50Us = at(gaps, 50)
        itlP90Us = at(gaps, 90)
        itlP99Us = at(gaps, 99)
    }
}
