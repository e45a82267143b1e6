import Histogram

/// The token metrics of one window (LLM answers: OpenAI streams, decoupled models' streams),
/// in HDR histograms, so memory is flat however many requests and tokens there were.
///
/// Definitions, per successful request:
/// - time to first token: from the send to the first response that carried content (streamed
///   answers only; a role-only first chunk does not count);
/// - inter-token latency: every gap between consecutive responses that carried content;
/// - time per output token: (last content − first content) / (output tokens − 1), one value
///   per request with at least two tokens (genai-perf's per-request inter-token latency);
/// - output tokens: the server's `usage.completion_tokens` when it sent one, else the number of
///   responses with content.
public struct TokenWindow: Sendable {
    public var requests = 0
    public var streamedRequests = 0
    public var outputTokens = 0
    /// Requests whose output tokens the server counted (`usage`), and those counted by content response.
    public var countedByServer = 0
    public var countedByResponses = 0
    /// Requests that met every `--goodput` objective.
    public var goodRequests = 0
    /// Gaps of 0: events that arrived in one read, so the client cannot tell them apart in time.
    public var gapsWithinOneRead = 0
    public var timeToFirstTokenNs = Histogram<UInt64>.emptyLatency
    public var interTokenLatencyNs = Histogram<UInt64>.emptyLatency
    public var timePerOutputTokenNs = Histogram<UInt64>.emptyLatency
    public var outputTokensPerRequest = Histogram<UInt64>.emptyLatency
    /// Scheduled loads: time to first token counted from the intended send time.
    public var timeToFirstTokenFromIntendedNs: Histogram<UInt64>?

    public init(scheduled: Bool = false) {
        if scheduled { timeToFirstTokenFromIntendedNs = Histogram<UInt64>.emptyLatency }
    }

    public mutating func merge(_ other: TokenWindow) {
        requests += other.requests
        streamedRequests += other.streamedRequests
        outputTokens += other.outputTokens
        countedByServer += other.countedByServer
        countedByResponses += other.countedByResponses
        goodRequests += other.goodRequests
        gapsWithinOneRead += other.gapsWithinOneRead
        timeToFirstTokenNs.add(other.timeToFirstTokenNs)
        interTokenLatencyNs.add(other.interTokenLatencyNs)
        timePerOutputTokenNs.add(other.timePerOutputTokenNs)
        outputTokensPerRequest.add(other.outputTokensPerRequest)
        if let theirs = other.timeToFirstTokenFromIntendedNs {
            if timeToFirstTokenFromIntendedNs == nil { timeToFirstTokenFromIntendedNs = Histogram<UInt64>.emptyLatency }
            timeToFirstTokenFromIntendedNs!.add(theirs)
        }
    }

    /// Output tokens per second over `durationNs`.
    public func outputTokenThroughput(durationNs: UInt64) -> Double {
        durationNs > 0 ? Double(outputTokens) * 1e9 / Double(durationNs) : 0
    }

    /// Requests per second that met every `--goodput` objective.
    public func goodput(durationNs: UInt64) -> Double {
        durationNs > 0 ? Double(goodRequests) * 1e9 / Double(durationNs) : 0
    }
}
