/// The result of comparing two runs: each level both have, metric by metric, and the levels
/// only one has (listed, not judged).
struct RunComparison: Sendable {
    struct Row: Sendable {
        var metric: CompareMetric
        var base: Double?
        var new: Double?
        var change: Double?
        var interval: ClosedRange<Double>?
        var verdict: ChangeVerdict
    }

    struct Level: Sendable {
        var key: LevelKey
        var rows: [Row]
        var regressions: [CompareMetric] { rows.filter { $0.verdict == .regression }.map(\.metric) }
    }

    /// Whether the intervals were computed (exports) or only the threshold applied (CSV).
    var tested: Bool
    var levels: [Level]
    var onlyInBase: [LevelKey]
    var onlyInNew: [LevelKey]
    /// Levels a file holds more than once (the first is compared).
    var repeated: [(side: String, key: LevelKey)]

    var regressed: Bool { levels.contains { !$0.regressions.isEmpty } }

    struct Settings: Sendable {
        var metrics: [CompareMetric]
        /// As a fraction: 0.05 for 5%.
        var threshold: Double
        var bootstrap: BlockBootstrap
    }

    /// Matches the levels by mode and value and judges each metric; both inputs must be of one kind.
    static func compare(base: CompareInput, new: CompareInput, settings: Settings) throws(CompareInputError) -> RunComparison {
        var repeated: [(String, LevelKey)] = []
        func firstIndex(_ keys: [LevelKey], side: String) -> [LevelKey: Int] {
            var index: [LevelKey: Int] = [:]
            for (position, key) in keys.enumerated() {
                if index[key] == nil { index[key] = position } else if !repeated.contains(where: { $0 == (side, key) }) { repeated.append((side, key)) }
            }
            return index
        }
        let baseIndex = firstIndex(base.keys, side: "BASE")
        let newIndex = firstIndex(new.keys, side: "NEW")
        let shared = baseIndex.keys.filter { newIndex[$0] != nil }.sorted()
        var levels: [Level] = []
        let tested: Bool
        switch (base, new) {
        case (.export(let baseLevels), .export(let newLevels)):
            tested = true
            for key in shared {
                let changes = settings.bootstrap.compare(base: baseLevels[baseIndex[key]!].level, new: newLevels[newIndex[key]!].level,
                                                         metrics: settings.metrics, stream: Self.stream(key))
                levels.append(Level(key: key, rows: zip(settings.metrics, changes).map { metric, change in
                    Row(metric: metric, base: change.base, new: change.new, change: change.change, interval: change.interval,
                        verdict: .judge(metric, change: change.change, interval: change.interval, tested: true, threshold: settings.threshold))
                }))
            }
        case (.csv(let baseRows), .csv(let newRows)):
            tested = false
            for key in shared {
                let from = baseRows[baseIndex[key]!].figures
                let to = newRows[newIndex[key]!].figures
                levels.append(Level(key: key, rows: settings.metrics.indices.map { metric in
                    let change = from[metric] > 0 ? to[metric] / from[metric] - 1 : nil
                    return Row(metric: settings.metrics[metric], base: from[metric], new: to[metric], change: change, interval: nil,
                               verdict: .judge(settings.metrics[metric], change: change, interval: nil, tested: false, threshold: settings.threshold))
                }))
            }
        default:
            throw CompareInputError("BASE is a \(base.kindName) and NEW a \(new.kindName): expected two files of one kind (two exports or two CSV files)")
        }
        guard !levels.isEmpty else {
            throw CompareInputError("no level is in both files: BASE has \(Self.list(base.keys)), NEW has \(Self.list(new.keys))")
        }
        return RunComparison(tested: tested, levels: levels,
                             onlyInBase: baseIndex.keys.filter { newIndex[$0] == nil }.sorted(),
                             onlyInNew: newIndex.keys.filter { baseIndex[$0] == nil }.sorted(),
                             repeated: repeated.map { (side: $0.0, key: $0.1) })
    }

    private static func list(_ keys: [LevelKey]) -> String {
        Array(Set(keys)).sorted().map(\.description).joined(separator: ", ")
    }

    /// A level's own bootstrap stream (FNV-1a of its name): the same level always draws the
    /// same way, whatever else the files hold.
    static func stream(_ key: LevelKey) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.description.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
