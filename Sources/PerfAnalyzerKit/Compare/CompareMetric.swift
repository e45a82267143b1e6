/// A figure `compare` judges at each level: the throughput, or a latency percentile.
enum CompareMetric: Hashable, Sendable, CustomStringConvertible {
    case throughput
    /// Nearest-rank percentile of the request latencies, 1 to 99.
    case latencyPercentile(Int)

    static let defaults: [CompareMetric] = [.throughput, .latencyPercentile(50), .latencyPercentile(99)]

    /// `throughput`, or `pN` with N from 1 to 99 (`p50`, `p99`, ...).
    init?(parsing text: String) {
        let word = text.lowercased()
        if word == "throughput" {
            self = .throughput
        } else if word.hasPrefix("p"), let percentile = Int(word.dropFirst()), (1...99).contains(percentile) {
            self = .latencyPercentile(percentile)
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .throughput: "throughput"
        case .latencyPercentile(let percentile): "p\(percentile) latency"
        }
    }

    /// Whether a larger value is better, which fixes the direction a regression goes.
    var higherIsBetter: Bool {
        if case .throughput = self { return true }
        return false
    }

    /// The column of perf_analyzer's CSV that holds it.
    var csvColumn: String {
        switch self {
        case .throughput: "Inferences/Second"
        case .latencyPercentile(let percentile): "p\(percentile) latency"
        }
    }
}
