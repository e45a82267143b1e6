/// The statistical test of `compare`: a block bootstrap of the relative change between two
/// runs at one level. Each resample draws, with replacement, as many time slices as each run
/// has from that run alone, and computes every metric over the slices drawn; the change
/// new/base − 1 of many resamples gives a percentile interval. Drawing slices rather than
/// single requests keeps together requests that were slow together, so a burst of slow
/// answers widens the interval as it should. Seeded: the same files give the same interval.
///
/// The interval reflects the variation within each run (slice to slice). It knows nothing of
/// how much two runs on the same machine differ anyway; that margin is `--threshold`.
struct BlockBootstrap: Sendable {
    var resamples: Int
    /// Coverage of the interval, as a fraction (0.95).
    var confidence: Double
    var seed: UInt64

    /// A relative change (0.1 is +10%) and its interval, nil where too few resamples had both figures.
    struct Change: Sendable {
        var base: Double?
        var new: Double?
        var change: Double?
        var interval: ClosedRange<Double>?
    }

    /// Compares one level's two runs; `stream` tells levels apart, so each has its own draws.
    func compare(base: SlicedLevel, new: SlicedLevel, metrics: [CompareMetric], stream: UInt64) -> [Change] {
        let baseFigures = base.figures(metrics)
        let newFigures = new.figures(metrics)
        var changes = [[Double]](repeating: [], count: metrics.count)
        if !base.slices.isEmpty && !new.slices.isEmpty {
            var baseRandom = SplitMix64(state: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
            var newRandom = SplitMix64(state: (seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)) &+ 0xD1B5_4A32_D192_ED03)
            var baseCounts = [Int32](repeating: 0, count: base.latencyValues.count)
            var newCounts = [Int32](repeating: 0, count: new.latencyValues.count)
            var baseChosen = [Int](repeating: 0, count: base.slices.count)
            var newChosen = [Int](repeating: 0, count: new.slices.count)
            for _ in 0..<resamples {
                for index in baseChosen.indices { baseChosen[index] = Self.draw(below: base.slices.count, using: &baseRandom) }
                for index in newChosen.indices { newChosen[index] = Self.draw(below: new.slices.count, using: &newRandom) }
                let from = base.figures(of: baseChosen, metrics: metrics, counts: &baseCounts)
                let to = new.figures(of: newChosen, metrics: metrics, counts: &newCounts)
                for metric in metrics.indices {
                    if let from = from[metric], let to = to[metric], from > 0 { changes[metric].append(to / from - 1) }
                }
            }
        }
        return metrics.indices.map { metric in
            var result = Change(base: baseFigures[metric], new: newFigures[metric])
            if let from = baseFigures[metric], let to = newFigures[metric], from > 0 { result.change = to / from - 1 }
            // An interval from fewer than 90% of the resamples would hide how often the figure was undefined.
            let drawn = changes[metric].sorted()
            if result.change != nil, drawn.count * 10 >= resamples * 9, !drawn.isEmpty {
                let tail = (1 - confidence) / 2
                result.interval = Self.quantile(drawn, tail)...Self.quantile(drawn, 1 - tail)
            }
            return result
        }
    }

    /// Nearest-rank quantile of sorted values.
    static func quantile(_ sorted: [Double], _ fraction: Double) -> Double {
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    /// A uniform index below `bound`, by multiply-high (no modulo bias worth the name for
    /// bounds this small), written out so the draws never depend on the standard library's choice.
    static func draw(below bound: Int, using random: inout SplitMix64) -> Int {
        Int(random.next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
