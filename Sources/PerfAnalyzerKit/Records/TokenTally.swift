/// What the responses of one OpenAI request carried: the inputs of the token metrics.
struct TokenTally: Sendable {
    /// The answer was an event stream (time to first token and the gaps exist only then).
    var streamed = false
    /// Responses that carried generated content.
    var contentEvents = 0
    /// The server's `usage.completion_tokens`; -1 when it sent none.
    var usageTokens = -1
    /// Arrival of the first and the last response with content; 0 when none had any.
    var firstContentNs: UInt64 = 0
    var lastContentNs: UInt64 = 0

    /// Output tokens: the server's count when it gave one, else one per content response.
    var outputTokens: Int { usageTokens >= 0 ? usageTokens : contentEvents }
    var countedByServer: Bool { usageTokens >= 0 }
}
