/// What a request path asks for. Parsing is plain string splitting; the handler
/// remembers the last path it parsed, since a client repeats the same one.
enum Route: Equatable {
    enum ModelAction: Equatable {
        case metadata, ready, config, statistics, infer
    }

    /// The two shared-memory extensions; kserve-sim implements the system one only.
    enum SharedMemoryKind: Equatable {
        case system, cuda
    }

    enum SharedMemoryAction: Equatable {
        case status, register, unregister
    }

    case healthLive
    case healthReady
    case serverMetadata
    case allStatistics
    case model(name: String, version: String?, action: ModelAction)
    /// `region` is nil for the all-regions forms (status and unregister).
    case sharedMemory(kind: SharedMemoryKind, region: String?, action: SharedMemoryAction)
    /// Anything under `/v1`: the OpenAI-compatible side, which checks methods and answers errors its own way.
    case openAI(OpenAIEndpoint)
    case notFound

    /// Inference and the shared-memory register/unregister calls are POSTs; all else are GETs.
    var isPost: Bool {
        switch self {
        case .model(_, _, .infer): return true
        case .sharedMemory(_, _, let action): return action != .status
        default: return false
        }
    }

    init(path uri: String) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // A leading "/" gives an empty first part; a trailing "/" an empty last one.
        guard parts.first == "" else { self = .notFound; return }
        parts.removeFirst()
        if parts.last == "", parts.count > 1 { parts.removeLast() }
        if parts.first == "v1" {
            self = .openAI(OpenAIEndpoint(parts.dropFirst()))
            return
        }
        guard parts.first == "v2" else { self = .notFound; return }
        let rest = Array(parts.dropFirst())
        switch rest.count {
        case 0:
            self = .serverMetadata
            return
        case 2 where rest[0] == "health":
            switch rest[1] {
            case "live": self = .healthLive
            case "ready": self = .healthReady
            default: self = .notFound
            }
            return
        default:
            break
        }
        if let kind = Self.sharedMemoryKinds[String(rest[0])] {
            self = Self.sharedMemory(kind: kind, rest.dropFirst())
            return
        }
        guard rest.count >= 2, rest[0] == "models", !rest[1].isEmpty else { self = .notFound; return }
        if rest.count == 2, rest[1] == "stats" {
            self = .allStatistics
            return
        }
        let name = String(rest[1])
        var tail = rest.dropFirst(2)
        var version: String?
        if tail.first == "versions" {
            guard tail.count >= 2, !tail[tail.startIndex + 1].isEmpty else { self = .notFound; return }
            version = String(tail[tail.startIndex + 1])
            tail = tail.dropFirst(2)
        }
        switch Array(tail) {
        case []: self = .model(name: name, version: version, action: .metadata)
        case ["ready"]: self = .model(name: name, version: version, action: .ready)
        case ["config"]: self = .model(name: name, version: version, action: .config)
        case ["stats"]: self = .model(name: name, version: version, action: .statistics)
        case ["infer"]: self = .model(name: name, version: version, action: .infer)
        default: self = .notFound
        }
    }

    private static let sharedMemoryKinds: [String: SharedMemoryKind] = [
        "systemsharedmemory": .system, "cudasharedmemory": .cuda,
    ]

    /// `[/region/NAME]/ACTION` after `/v2/{system,cuda}sharedmemory`; registering needs a region.
    private static func sharedMemory(kind: SharedMemoryKind, _ tail: ArraySlice<Substring>) -> Route {
        let parts = Array(tail)
        let region: String?
        let actionName: Substring
        switch parts.count {
        case 1:
            region = nil
            actionName = parts[0]
        case 3 where parts[0] == "region" && !parts[1].isEmpty:
            region = String(parts[1])
            actionName = parts[2]
        default:
            return .notFound
        }
        switch actionName {
        case "status": return .sharedMemory(kind: kind, region: region, action: .status)
        case "unregister": return .sharedMemory(kind: kind, region: region, action: .unregister)
        case "register" where region != nil: return .sharedMemory(kind: kind, region: region, action: .register)
        default: return .notFound
        }
    }
}
