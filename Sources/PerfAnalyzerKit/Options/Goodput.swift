/// `--goodput ttft:MS,itl:MS,latency:MS`: the service-level objectives a request must meet to
/// count toward goodput (as vLLM and genai-perf define it: requests per second that met all of
/// them). `itl` is held against the request's own time per output token.
public struct Goodput: Sendable, Equatable {
    public var timeToFirstTokenNs: UInt64?
    public var interTokenLatencyNs: UInt64?
    public var latencyNs: UInt64?

    public init(timeToFirstTokenNs: UInt64? = nil, interTokenLatencyNs: UInt64? = nil, latencyNs: UInt64? = nil) {
        self.timeToFirstTokenNs = timeToFirstTokenNs
        self.interTokenLatencyNs = interTokenLatencyNs
        self.latencyNs = latencyNs
    }

    /// Names taken for each objective: ours, genai-perf's and vLLM's.
    private static func objective(_ name: String) -> WritableKeyPath<Goodput, UInt64?>? {
        switch name {
        case "ttft", "time_to_first_token": return \.timeToFirstTokenNs
        case "itl", "inter_token_latency", "tpot": return \.interTokenLatencyNs
        case "latency", "request_latency", "e2el": return \.latencyNs
        default: return nil
        }
    }

    public init(parsing text: String) throws(OptionError) {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " })
        guard !parts.isEmpty else { throw OptionError("--goodput: expected objectives such as ttft:200,itl:20,latency:2000 (msec)") }
        for part in parts {
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pieces.count == 2, let key = Self.objective(pieces[0].lowercased()) else {
                throw OptionError("--goodput \(text): '\(part)' is not NAME:MS with NAME one of ttft, itl, latency")
            }
            guard let ms = Double(pieces[1]), ms.isFinite, ms > 0, ms <= Double(NumericBounds.maxMilliseconds) else {
                throw OptionError("--goodput \(text): '\(pieces[1])' is not a time in msec above 0")
            }
            guard self[keyPath: key] == nil else { throw OptionError("--goodput \(text): '\(pieces[0])' is given twice") }
            self[keyPath: key] = UInt64(ms * 1_000_000)
        }
    }

    /// Whether a request with these figures met every objective given.
    func isMet(timeToFirstTokenNs ttft: UInt64?, timePerOutputTokenNs tpot: UInt64?, latencyNs: UInt64) -> Bool {
        if let limit = timeToFirstTokenNs, (ttft.map { $0 > limit } ?? true) { return false }
        if let limit = interTokenLatencyNs, let tpot, tpot > limit { return false }
        if let limit = self.latencyNs, latencyNs > limit { return false }
        return true
    }

    public var description: String {
        var parts: [String] = []
        if let value = timeToFirstTokenNs { parts.append("time to first token <= \(Self.ms(value)) ms") }
        if let value = interTokenLatencyNs { parts.append("time per output token <= \(Self.ms(value)) ms") }
        if let value = latencyNs { parts.append("request latency <= \(Self.ms(value)) ms") }
        return parts.joined(separator: ", ")
    }

    private static func ms(_ ns: UInt64) -> String {
        let value = Double(ns) / 1e6
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
