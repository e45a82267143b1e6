/// How the simulator's OpenAI-compatible endpoints behave: which model name they serve, how
/// many tokens an answer has when the request does not say, and when those tokens go out.
public struct OpenAISettings: Sendable, Equatable {
    /// The one model `/v1/models` lists; requests naming another get 404.
    public var modelName: String
    /// Tokens per answer when the request sets neither `max_tokens` nor `max_completion_tokens`.
    public var outputTokens: Int
    /// From the request body being read to the first token leaving.
    public var timeToFirstToken: Duration
    /// Between two tokens of one answer.
    public var interTokenLatency: Duration

    public init(modelName: String = "sim-llm", outputTokens: Int = 16,
                timeToFirstToken: Duration = .zero, interTokenLatency: Duration = .zero) {
        self.modelName = modelName
        self.outputTokens = outputTokens
        self.timeToFirstToken = timeToFirstToken
        self.interTokenLatency = interTokenLatency
    }

    public static let defaultModelName = "sim-llm"
    public static let defaultOutputTokens = 16
    /// The most tokens one answer may have, asked for or configured: enough for any test,
    /// small enough that a whole non-streamed answer stays a few hundred kilobytes.
    public static let maximumOutputTokens = 100_000
    /// The longest first-token wait or token gap: an hour, as for the other delays.
    public static let maximumLatency: Duration = .seconds(3600)

    /// A reason the settings cannot be served; nil when they can.
    var problem: String? {
        if modelName.isEmpty { return "the OpenAI model name must not be empty" }
        if !(1...Self.maximumOutputTokens).contains(outputTokens) {
            return "the OpenAI output token count must be in 1...\(Self.maximumOutputTokens)"
        }
        for (name, latency) in [("time to first token", timeToFirstToken), ("inter-token latency", interTokenLatency)]
        where latency < .zero || latency > Self.maximumLatency {
            return "the OpenAI \(name) must be in 0...3600000 ms"
        }
        return nil
    }
}

extension Duration {
    /// Whole nanoseconds (our latencies are at most an hour, far inside Int64).
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
