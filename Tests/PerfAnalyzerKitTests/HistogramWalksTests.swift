import Histogram
import Testing
@testable import PerfAnalyzerKit

/// The specialized walks give the library's own figures, value for value: `bucketMean` its
/// `mean`, `valueAt(percentile:)` its `valueAtPercentile`; and windows made from the shared
/// empty histogram do not share what is recorded in them.
@Suite("Histogram walks")
struct HistogramWalksTests {
    /// Histograms of random values over four spreads, token counts, one value, and none.
    static func samples() -> [Histogram<UInt64>] {
        var generator = SystemRandomNumberGenerator()
        var samples: [Histogram<UInt64>] = []
        for spread in [UInt64(100), 50_000, 30_000_000, 5_000_000_000] {
            var histogram = Histogram<UInt64>.emptyLatency
            for _ in 0..<2_000 {
                histogram.record(UInt64.random(in: 1...spread, using: &generator))
            }
            samples.append(histogram)
        }
        var counts = Histogram<UInt64>.emptyLatency
        for tokens in [1, 1, 2, 64, 64, 128, 4096] as [UInt64] { counts.record(tokens) }
        samples.append(counts)
        var one = Histogram<UInt64>.emptyLatency
        one.record(123_456_789)
        samples.append(one)
        var zeros = Histogram<UInt64>.emptyLatency
        zeros.record(0)
        zeros.record(7)
        samples.append(zeros)
        samples.append(Histogram<UInt64>.emptyLatency)
        return samples
    }

    @Test("bucketMean equals the library's mean on latencies, token counts and an empty histogram")
    func equalsTheLibrarysMean() {
        for (index, histogram) in Self.samples().enumerated() {
            #expect(histogram.bucketMean == histogram.mean, "sample \(index)")
        }
        #expect(Histogram<UInt64>.emptyLatency.bucketMean == 0)
    }

    @Test("valueAt(percentile:) equals the library's valueAtPercentile at every percentile a report asks for")
    func equalsTheLibrarysPercentiles() {
        let percentiles: [Double] = [0, 0.1, 1, 12.34, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100, 150]
        for (index, histogram) in Self.samples().enumerated() {
            for percentile in percentiles {
                #expect(histogram.valueAt(percentile: percentile) == histogram.valueAtPercentile(percentile),
                        "sample \(index), p\(percentile)")
            }
        }
    }

    @Test("summary(percentiles:) gives the library's mean and values at p50, p90 and p99 in one walk")
    func summaryEqualsTheLibrarysFigures() {
        let percentiles: [Double] = [50, 90, 99]
        for (index, histogram) in Self.samples().enumerated() {
            let (mean, values) = histogram.summary(percentiles: percentiles)
            #expect(mean == histogram.mean, "sample \(index)")
            #expect(values == percentiles.map { histogram.valueAtPercentile($0) }, "sample \(index)")
        }
        let finer: [Double] = [0.5, 1, 1, 33.3, 99.999]
        let latencies = Self.samples()[2]
        #expect(latencies.summary(percentiles: finer).values == finer.map { latencies.valueAtPercentile($0) })
    }

    @Test("a window's latency percentiles in one walk are the ones asked for one at a time")
    func windowPercentiles() {
        var window = ClientWindow(startNs: 0)
        #expect(window.latencyPercentilesNs([50, 99]) == [0, 0])
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            window.recordSuccess(latencyNs: UInt64.random(in: 1_000...90_000_000, using: &generator), sendNs: 0, receiveNs: 0, batchSize: 1)
        }
        let percentiles = ConsoleReport.reportedPercentiles(97)
        #expect(window.latencyPercentilesNs(percentiles) == percentiles.map { window.latencyNs.valueAtPercentile(Double($0)) })
    }

    @Test("windows made from the shared empty histogram keep their own counts")
    func emptyCopiesDoNotShareCounts() {
        var first = ClientWindow(startNs: 0)
        first.recordSuccess(latencyNs: 5_000, sendNs: 0, receiveNs: 0, batchSize: 1)
        var tokens = TokenWindow()
        tokens.timeToFirstTokenNs.record(9_000)
        let second = ClientWindow(startNs: 1)
        #expect(first.latencyNs.totalCount == 1)
        #expect(tokens.timeToFirstTokenNs.totalCount == 1)
        #expect(second.latencyNs.totalCount == 0)
        #expect(TokenWindow().timeToFirstTokenNs.totalCount == 0)
        #expect(Histogram<UInt64>.emptyLatency.totalCount == 0)
        #expect(Histogram<UInt64>.emptyLatency.valueAtPercentile(50) == 0)
    }
}
