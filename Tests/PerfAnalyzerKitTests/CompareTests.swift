import Foundation
import Testing
@testable import PerfAnalyzerKit

/// A synthetic level: `windows` one-second windows, `perWindow` requests in each completing at
/// random times, latencies drawn around `latencyUs` (±20%, with one in fifty three times slower).
private func syntheticLevel(seed: UInt64, windows: Int = 3, perWindow: Int = 1000, latencyUs: Double = 1000) -> SlicedLevel {
    var random = SplitMix64(state: seed)
    func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
    let start: UInt64 = 1_000_000_000_000
    let second: UInt64 = 1_000_000_000
    let bounds = (0..<windows).map { start + UInt64($0) * second..<start + UInt64($0 + 1) * second }
    var completions: [SlicedLevel.Completion] = []
    for window in bounds {
        for _ in 0..<perWindow {
            let slow = uniform() < 0.02 ? 3.0 : 1.0
            let latency = latencyUs * slow * (0.8 + 0.4 * uniform())
            completions.append(.init(completedNs: window.lowerBound + UInt64(uniform() * Double(second)), latencyNs: UInt64(latency * 1000)))
        }
    }
    return SlicedLevel(windows: bounds, completions: completions)
}

private let metrics = CompareMetric.defaults
private let bootstrap = BlockBootstrap(resamples: 1000, confidence: 0.95, seed: 7)

private func verdicts(_ base: SlicedLevel, _ new: SlicedLevel, threshold: Double = 0.05, using test: BlockBootstrap = bootstrap) -> [ChangeVerdict] {
    test.compare(base: base, new: new, metrics: metrics, stream: 1).enumerated().map { index, change in
        ChangeVerdict.judge(metrics[index], change: change.change, interval: change.interval, tested: true, threshold: threshold)
    }
}

@Suite("Compare")
struct CompareTests {
    @Test("slices: every request lands in one, their lengths add up to the windows', figures as measured")
    func slicing() {
        let level = syntheticLevel(seed: 1)
        #expect(level.slices.count >= SlicedLevel.targetSlices)
        #expect(level.requestCount == 3000)
        #expect(level.slices.reduce(0) { $0 + $1.durationNs } == 3_000_000_000)
        let figures = level.figures(metrics)
        #expect(figures[0] == 1000)
        // p50 of latencies uniform in 800..1200 µs (2% three times slower) lies near 1000.
        #expect((950...1050).contains(figures[1] ?? 0))
        #expect((2400...3600).contains(figures[2] ?? 0))
    }

    @Test("a request completing outside every window is left out")
    func outsideWindows() {
        let level = SlicedLevel(windows: [100..<200], completions: [.init(completedNs: 150, latencyNs: 5000), .init(completedNs: 250, latencyNs: 9000)])
        #expect(level.requestCount == 1)
        #expect(level.figures([.latencyPercentile(99)]) == [5])
    }

    @Test("the same seed gives the same intervals; another seed other ones")
    func seeded() {
        let base = syntheticLevel(seed: 1)
        let new = syntheticLevel(seed: 2)
        let first = bootstrap.compare(base: base, new: new, metrics: metrics, stream: 3)
        let again = bootstrap.compare(base: base, new: new, metrics: metrics, stream: 3)
        var other = bootstrap
        other.seed = 8
        let reseeded = other.compare(base: base, new: new, metrics: metrics, stream: 3)
        #expect(first.map(\.interval) == again.map(\.interval))
        #expect(first.map(\.interval) != reseeded.map(\.interval))
        #expect(first.map(\.change) == reseeded.map(\.change))
    }

    @Test("no shift: two draws of one distribution are not flagged")
    func noShift() {
        for seed in 0..<5 as Range<UInt64> {
            let judged = verdicts(syntheticLevel(seed: seed * 2), syntheticLevel(seed: seed * 2 + 1))
            #expect(!judged.contains(.regression), "seed \(seed): \(judged)")
            #expect(!judged.contains(.improvement), "seed \(seed): \(judged)")
        }
    }

    @Test("a 10% latency shift is a regression of p50 and p99; throughput unchanged is not")
    func latencyShift() {
        let judged = verdicts(syntheticLevel(seed: 1), syntheticLevel(seed: 2, latencyUs: 1100))
        #expect(judged[1] == .regression)
        #expect(judged[2] == .regression)
        #expect(judged[0] != .regression)
        // The same shift read the other way round is an improvement.
        #expect(verdicts(syntheticLevel(seed: 2, latencyUs: 1100), syntheticLevel(seed: 1))[1] == .improvement)
    }

    @Test("a 20% throughput drop is a regression; within a 30% threshold it is significant but passes")
    func throughputShift() {
        let base = syntheticLevel(seed: 1)
        let new = syntheticLevel(seed: 2, perWindow: 800)
        #expect(verdicts(base, new)[0] == .regression)
        #expect(verdicts(base, new, threshold: 0.3)[0] == .significantWithinThreshold)
    }

    @Test("a 3% shift beyond a 1% threshold is flagged only when the interval excludes 0")
    func smallShiftNeedsSignificance() {
        // 30 requests a window: far too few to tell 3% apart.
        let judged = verdicts(syntheticLevel(seed: 1, perWindow: 30), syntheticLevel(seed: 2, perWindow: 30, latencyUs: 1030), threshold: 0.01)
        #expect(judged[1] == .noSignificantChange)
    }

    @Test("verdicts from CSV figures: the threshold alone decides")
    func untested() {
        #expect(ChangeVerdict.judge(.throughput, change: -0.06, interval: nil, tested: false, threshold: 0.05) == .regression)
        #expect(ChangeVerdict.judge(.throughput, change: 0.06, interval: nil, tested: false, threshold: 0.05) == .improvement)
        #expect(ChangeVerdict.judge(.latencyPercentile(99), change: 0.04, interval: nil, tested: false, threshold: 0.05) == .withinThreshold)
        #expect(ChangeVerdict.judge(.latencyPercentile(99), change: 0.06, interval: nil, tested: false, threshold: 0.05) == .regression)
    }

    @Test("an export is read into levels: latency from send to last response, in the window of the last response")
    func readsExport() throws {
        let json = """
        {"experiments":[{"experiment":{"mode":"concurrency","value":2},"requests":[
          {"timestamp":1000000,"request_inputs":{"x":[1]},"response_timestamps":[1400000,3000000],"response_outputs":[{},{}]},
          {"timestamp":2000000,"response_timestamps":[2500000]},
          {"timestamp":2500000,"response_timestamps":[]}],
          "window_boundaries":[1000000,2000000,4000000]}],"version":"x","service_kind":"triton","endpoint":""}
        """
        let levels = try ProfileExportLevels.read(Data(json.utf8), path: "e.json")
        #expect(levels.map(\.key) == [LevelKey(mode: "concurrency", value: 2)])
        #expect(levels[0].level.requestCount == 2)
        #expect(levels[0].level.latencyValues == [500, 2000])
        #expect(levels[0].level.figures([.throughput]) == [2 / 0.003])
    }

    @Test("bad exports and CSV files are one line naming the file and what was expected", arguments: [
        ("x.json", "[1,2", "x.json: not JSON"),
        ("x.json", "{\"version\":\"1\"}", "x.json: expected a profile export with an \"experiments\" list, found none"),
        ("x.json", "{\"experiments\":[]}", "x.json: experiments: expected at least one measured level, found an empty list"),
        ("x.json", "{\"experiments\":[{\"experiment\":{\"mode\":\"concurrency\",\"value\":1},\"requests\":[{\"timestamp\":\"a\",\"response_timestamps\":[]}],\"window_boundaries\":[1,2]}]}",
         "x.json: experiments[0].requests[0].timestamp: expected a non-negative integer (ns), found a string"),
        ("x.json", "{\"experiments\":[{\"experiment\":{\"mode\":\"concurrency\",\"value\":1},\"requests\":[],\"window_boundaries\":[5]}]}",
         "x.json: experiments[0].window_boundaries: expected at least two boundaries, found 1"),
        ("x.csv", "Concurrency,Inferences/Second,p50 latency\n1,10,100\n", "x.csv: CSV header: expected a \"p99 latency\" column (for p99 latency), found none"),
        ("x.csv", "Level,Inferences/Second\n", "x.csv: first CSV column: expected \"Concurrency\" or \"Request Rate\", found \"Level\""),
        ("x.csv", "Concurrency,Inferences/Second,p50 latency,p99 latency\n1,fast,1,2\n",
         "x.csv line 2, column \"Inferences/Second\": expected a non-negative number, found \"fast\""),
        ("x.csv", "Concurrency,Inferences/Second,p50 latency,p99 latency\n", "x.csv: expected a row per level under the CSV header, found none"),
    ])
    func badInput(name: String, text: String, expected: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try CompareInput.read(path: path, metrics: metrics)
            Issue.record("\(name) was accepted: \(text)")
        } catch {
            #expect(error.description.hasPrefix(path.replacingOccurrences(of: name, with: "") + expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("CSV levels are matched by mode and value; levels in one file only are listed, not judged")
    func csvMatching() throws {
        let base = CompareInput.csv([(LevelKey(mode: "concurrency", value: 1), [100, 1000, 2000]), (LevelKey(mode: "concurrency", value: 2), [180, 1100, 2500])])
        let new = CompareInput.csv([(LevelKey(mode: "concurrency", value: 2), [150, 1300, 2500]), (LevelKey(mode: "concurrency", value: 4), [300, 1500, 3000])])
        let settings = RunComparison.Settings(metrics: metrics, threshold: 0.05, bootstrap: bootstrap)
        let comparison = try RunComparison.compare(base: base, new: new, settings: settings)
        #expect(comparison.levels.map(\.key.description) == ["concurrency 2"])
        #expect(comparison.levels[0].regressions == [.throughput, .latencyPercentile(50)])
        #expect(comparison.onlyInBase.map(\.description) == ["concurrency 1"])
        #expect(comparison.onlyInNew.map(\.description) == ["concurrency 4"])
        let text = ComparisonTable(basePath: "a.csv", newPath: "b.csv", settings: settings).render(comparison)
        #expect(text.contains("no significance test is possible"))
        #expect(text.contains("Regressed: concurrency 2 (throughput, p50 latency)."))
        #expect(throws: CompareInputError.self) {
            try RunComparison.compare(base: base, new: .csv([(LevelKey(mode: "request_rate", value: 2), [1, 1, 1])]), settings: settings)
        }
    }
}
