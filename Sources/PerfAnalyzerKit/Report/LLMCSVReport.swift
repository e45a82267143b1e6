import Foundation
import Histogram

/// The LLM CSV written beside `-f FILE` in LLM runs (`FILE` with `_llm` before its extension):
/// one row per level, in the order measured, with the token metrics. Times in usec.
struct LLMCSVReport {
    var isScheduled: Bool
    var goodput: Goodput?

    /// Where the LLM CSV goes for `-f path`.
    static func path(besides path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        let ext = url.pathExtension.isEmpty ? "csv" : url.pathExtension
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)_llm.\(ext)").path
    }

    private static func spectrum(_ name: String) -> [String] {
        ["\(name) avg", "\(name) p50", "\(name) p90", "\(name) p99"]
    }

    var header: String {
        var columns = [isScheduled ? "Request Rate" : "Concurrency", "Request Throughput", "Output Token Throughput"]
        if goodput != nil { columns.append("Goodput") }
        columns += ["Requests", "Streamed Requests", "Output Tokens From Usage"]
        columns += Self.spectrum("Time To First Token")
        if isScheduled { columns += ["Time To First Token From Intended p50", "Time To First Token From Intended p99"] }
        columns += Self.spectrum("Inter Token Latency") + ["Inter Token Gaps", "Gaps Within One Read"] + Self.spectrum("Time Per Output Token")
        columns += ["Output Tokens avg", "Output Tokens p50", "Output Tokens p99", "Output Tokens max"]
        columns += Self.spectrum("Request Latency")
        return columns.joined(separator: ",")
    }

    func row(_ level: LevelResult) -> String {
        let client = level.client
        let tokens = client.tokens ?? TokenWindow()
        let report = TokenReport(tokens: tokens, client: client, goodput: goodput)
        var cells = [level.level.value, formatG(report.requestThroughput), formatG(report.outputTokenThroughput)]
        if goodput != nil { cells.append(formatG(tokens.goodput(durationNs: client.durationNs))) }
        cells += [String(tokens.requests), String(tokens.streamedRequests), String(tokens.countedByServer)]
        cells += Self.spectrum(tokens.timeToFirstTokenNs)
        if isScheduled {
            let fromIntended = tokens.timeToFirstTokenFromIntendedNs
            cells += [50.0, 99.0].map { percentile in
                fromIntended.map { $0.totalCount > 0 ? String($0.valueAt(percentile: percentile) / 1000) : "" } ?? ""
            }
        }
        cells += Self.spectrum(tokens.interTokenLatencyNs) + [String(tokens.interTokenLatencyNs.totalCount), String(tokens.gapsWithinOneRead)]
            + Self.spectrum(tokens.timePerOutputTokenNs)
        let counts = tokens.outputTokensPerRequest
        cells += counts.totalCount > 0
            ? [TokenReport.decimal(counts.bucketMean), String(counts.valueAt(percentile: 50)), String(counts.valueAt(percentile: 99)), String(counts.max)]
            : ["", "", "", ""]
        cells += [String(client.averageLatencyNs / 1000)] + client.latencyPercentilesNs([50, 90, 99]).map { String($0 / 1000) }
        return cells.joined(separator: ",")
    }

    /// avg, p50, p90, p99 in usec; empty cells when nothing was recorded.
    private static func spectrum(_ histogram: Histogram<UInt64>) -> [String] {
        guard histogram.totalCount > 0 else { return ["", "", "", ""] }
        let (mean, values) = histogram.summary(percentiles: TokenReport.percentiles)
        return [String(UInt64(mean) / 1000)] + values.map { String($0 / 1000) }
    }

    func document(_ levels: [LevelResult]) -> String {
        ([header] + levels.map(row)).joined(separator: "\n") + "\n"
    }
}
