/// The paths under `/v1` the simulator knows, each with the one method it takes.
enum OpenAIEndpoint: Equatable {
    case models
    case chatCompletions
    case completions
    case embeddings
    /// kserve-sim's own: what it counted of the OpenAI requests, for tests to compare with.
    case statistics
    case unknown

    /// `parts` are the path's segments after `v1`.
    init(_ parts: ArraySlice<Substring>) {
        switch Array(parts) {
        case ["models"]: self = .models
        case ["chat", "completions"]: self = .chatCompletions
        case ["completions"]: self = .completions
        case ["embeddings"]: self = .embeddings
        case ["sim", "statistics"]: self = .statistics
        default: self = .unknown
        }
    }

    /// The three that run the simulated model; they count as inference requests (statistics, faults).
    var isInference: Bool {
        switch self {
        case .chatCompletions, .completions, .embeddings: return true
        case .models, .statistics, .unknown: return false
        }
    }

    var method: String { isInference ? "POST" : "GET" }

    /// The path as the record names it.
    var path: String {
        switch self {
        case .models: return "/v1/models"
        case .chatCompletions: return "/v1/chat/completions"
        case .completions: return "/v1/completions"
        case .embeddings: return "/v1/embeddings"
        case .statistics: return "/v1/sim/statistics"
        case .unknown: return "/v1"
        }
    }
}
