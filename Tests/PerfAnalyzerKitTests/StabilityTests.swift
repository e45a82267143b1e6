import Testing
@testable import PerfAnalyzerKit

private func windows(_ pairs: [(Double, UInt64)]) -> [WindowFigures] {
    pairs.map { WindowFigures(throughput: $0.0, latencyNs: $0.1 * 1000) }
}

@Suite("Stability and search")
struct StabilityTests {
    @Test("three windows within the threshold are stable")
    func stable() {
        #expect(Stability.isStable(windows([(100, 1000), (105, 1040), (109, 1090)]), threshold: 0.1))
    }

    @Test("fewer than three windows are never stable")
    func tooFew() {
        #expect(!Stability.isStable(windows([(100, 1000), (100, 1000)]), threshold: 0.1))
    }

    @Test("the spread is max over min, not distance from the mean")
    func maxOverMin() {
        // 100 and 111: max/min = 1.11 > 1.1 although both are within 10% of their mean.
        #expect(!Stability.isStable(windows([(100, 1000), (105, 1000), (111, 1000)]), threshold: 0.1))
        #expect(Stability.isStable(windows([(100, 1000), (105, 1000), (110, 1000)]), threshold: 0.1))
    }

    @Test("latency must settle too, unless only throughput is checked")
    func latency() {
        let figures = windows([(100, 1000), (100, 1200), (100, 1000)])
        #expect(!Stability.isStable(figures, threshold: 0.1))
        #expect(Stability.isStable(figures, threshold: 0.1, checkLatency: false))
    }

    @Test("only the last three windows count")
    func lastThree() {
        #expect(Stability.isStable(windows([(10, 9000), (100, 1000), (101, 1001), (102, 1002)]), threshold: 0.1))
    }

    @Test("a window without throughput is never stable")
    func zeroThroughput() {
        #expect(!Stability.isStable(windows([(0, 1000), (0, 1000), (0, 1000)]), threshold: 0.1))
    }

    @Test("latency limit: any of the last three windows at or over -l")
    func latencyLimit() {
        let figures = windows([(100, 4000), (100, 5000), (100, 4500)])
        #expect(Stability.reachedLatencyLimit(figures, limitMs: 5))
        #expect(!Stability.reachedLatencyLimit(figures, limitMs: 6))
        #expect(!Stability.reachedLatencyLimit(figures, limitMs: 0))
    }

    @Test("linear sweep steps to the end, or forever when open-ended, and stops over the limit")
    func linear() {
        let range = ConcurrencyRange(start: 1, end: 5, step: 2)
        #expect(ConcurrencySearch.nextLinear(after: 1, range: range, metThreshold: true) == 3)
        #expect(ConcurrencySearch.nextLinear(after: 3, range: range, metThreshold: true) == 5)
        #expect(ConcurrencySearch.nextLinear(after: 5, range: range, metThreshold: true) == nil)
        #expect(ConcurrencySearch.nextLinear(after: 3, range: range, metThreshold: false) == nil)
        let open = ConcurrencyRange(start: 1, end: 0, step: 4)
        #expect(ConcurrencySearch.nextLinear(after: 101, range: open, metThreshold: true) == 105)
    }

    /// A synthetic server whose latency crosses the limit above `capacity`.
    private func visited(range: ConcurrencyRange, capacity: Int) async -> [Int] {
        var levels: [Int] = []
        await ConcurrencySearch.binary(range: range) { level in
            levels.append(level)
            return level <= capacity
        }
        return levels
    }

    @Test("binary search converges on the highest level under the limit")
    func binary() async {
        #expect(await visited(range: ConcurrencyRange(start: 1, end: 16, step: 1), capacity: 11) == [1, 16, 8, 12, 10, 11])
        // Start already over the limit: stop at once.
        #expect(await visited(range: ConcurrencyRange(start: 4, end: 16, step: 1), capacity: 2) == [4])
        // End under the limit: nothing to search.
        #expect(await visited(range: ConcurrencyRange(start: 1, end: 16, step: 1), capacity: 64) == [1, 16])
        // A coarser step stops sooner.
        #expect(await visited(range: ConcurrencyRange(start: 1, end: 16, step: 4), capacity: 11) == [1, 16, 8, 12])
    }
}
