import Foundation
import Histogram

/// The token metrics of one level, for LLM runs: a console section after the Client one, and
/// the figures of one LLM CSV row. Times in usec, as the rest of the report.
struct TokenReport {
    var tokens: TokenWindow
    /// The level's client window (its duration and request latency).
    var client: ClientWindow
    var goodput: Goodput?
    /// A decoupled model's stream: every response is one token, by definition.
    var tokenPerResponse = false

    static let percentiles: [Double] = [50, 90, 99]

    func consoleLines() -> [String] {
        var lines = ["  LLM: "]
        let source: String
        if tokenPerResponse {
            source = "one output token per response"
        } else if tokens.countedByResponses == 0 {
            source = "output tokens from the server's usage blocks"
        } else if tokens.countedByServer == 0 {
            source = "output tokens counted as responses with content: the server sent no usage block"
        } else {
            source = "output tokens from usage blocks for \(tokens.countedByServer) requests, counted as responses with content for \(tokens.countedByResponses)"
        }
        lines.append("    Streamed requests: \(tokens.streamedRequests) of \(tokens.requests) (\(source))")
        if tokens.streamedRequests > 0 {
            lines.append("    Time to first token: \(Self.summary(tokens.timeToFirstTokenNs))")
            if let fromIntended = tokens.timeToFirstTokenFromIntendedNs, fromIntended.totalCount > 0 {
                lines.append("    Time to first token from intended send time: \(Self.summary(fromIntended))")
            }
            var gaps = "\(tokens.interTokenLatencyNs.totalCount) gaps"
            if tokens.gapsWithinOneRead > 0 {
                // Events that came in one read share its time: their gaps read as 0.
                gaps += ", \(tokens.gapsWithinOneRead) of them between events that arrived in one read"
            }
            lines.append("    Inter-token latency: \(Self.summary(tokens.interTokenLatencyNs)) (\(gaps))")
            lines.append("    Time per output token: \(Self.summary(tokens.timePerOutputTokenNs))")
        }
        let counts = tokens.outputTokensPerRequest
        lines.append("    Output tokens per request: avg \(Self.decimal(counts.bucketMean)), p50 \(counts.valueAt(percentile: 50)), p99 \(counts.valueAt(percentile: 99)), max \(counts.max)")
        lines.append("    Output token throughput: \(formatG(outputTokenThroughput)) tokens/sec")
        lines.append("    Request throughput: \(formatG(requestThroughput)) requests/sec")
        if let goodput {
            lines.append("    Goodput: \(formatG(tokens.goodput(durationNs: client.durationNs))) requests/sec (\(tokens.goodRequests) of \(tokens.requests) requests met \(goodput.description))")
        }
        return lines
    }

    var outputTokenThroughput: Double { tokens.outputTokenThroughput(durationNs: client.durationNs) }
    var requestThroughput: Double { client.durationNs > 0 ? Double(client.requestCount) * 1e9 / Double(client.durationNs) : 0 }

    /// "avg A usec, p50 B usec, p90 C usec, p99 D usec" of a histogram of nanoseconds.
    static func summary(_ histogram: Histogram<UInt64>) -> String {
        guard histogram.totalCount > 0 else { return "none" }
        let (mean, values) = histogram.summary(percentiles: percentiles)
        let shown = zip(percentiles, values).map { "p\(Int($0)) \($1 / 1000) usec" }
        return "avg \(UInt64(mean) / 1000) usec, " + shown.joined(separator: ", ")
    }

    static func decimal(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
