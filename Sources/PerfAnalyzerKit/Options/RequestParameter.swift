import KServeProtocol

/// `--request-parameter name:value:type`: a parameter every inference request carries, for
/// the model's backend to read (Triton passes request parameters through to it).
public struct RequestParameter: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case bool(Bool)
        case int(Int64)
        case string(String)
    }

    public var name: String
    public var value: Value

    public init(name: String, value: Value) {
        self.name = name
        self.value = value
    }

    /// Parses `name:value:type` with type `bool`, `int` or `string` (the types perf_analyzer's
    /// documentation lists).
    public init(parsing text: String) throws(OptionError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty else {
            throw OptionError("--request-parameter \(text): expected name:value:type")
        }
        let (name, raw, type) = (parts[0], parts[1], parts[2].lowercased())
        switch type {
        case "string":
            value = .string(raw)
        case "int":
            guard let number = Int64(raw) else {
                throw OptionError("--request-parameter \(text): '\(raw)' is not a 64-bit integer")
            }
            value = .int(number)
        case "bool":
            switch raw.lowercased() {
            case "true": value = .bool(true)
            case "false": value = .bool(false)
            default: throw OptionError("--request-parameter \(text): expected true or false, found '\(raw)'")
            }
        default:
            throw OptionError("--request-parameter \(text): the type '\(parts[2])' is not one of bool, int, string")
        }
        self.name = name
    }
}

extension [RequestParameter] {
    /// The parameters as members of a JSON object, without braces (`"a":1,"b":"x"`), in the
    /// order given; later ones with the same name replace earlier ones, as on the command line.
    var jsonMembers: String {
        var seen = Set<String>()
        return reversed().filter { seen.insert($0.name).inserted }.reversed().map { parameter in
            let value: String
            switch parameter.value {
            case .bool(let flag): value = flag ? "true" : "false"
            case .int(let number): value = String(number)
            case .string(let text): value = JSONText.quoted(text)
            }
            return "\(JSONText.quoted(parameter.name)):\(value)"
        }.joined(separator: ",")
    }
}
