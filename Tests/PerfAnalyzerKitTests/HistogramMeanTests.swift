import Histogram
import Testing
@testable import PerfAnalyzerKit

/// `bucketMean` is the library's `mean`, value for value: the same buckets, the same middle
/// of each, the same order of sums.
@Suite("Histogram mean")
struct HistogramMeanTests {
    @Test("equals the library's mean on latencies, token counts and an empty histogram")
    func equalsTheLibrarysMean() {
        var generator = SystemRandomNumberGenerator()
        for spread in [UInt64(100), 50_000, 30_000_000, 5_000_000_000] {
            var histogram = TokenWindow.histogram()
            for _ in 0..<2_000 {
                histogram.record(UInt64.random(in: 1...spread, using: &generator))
            }
            #expect(histogram.bucketMean == histogram.mean, "values up to \(spread)")
        }
        var counts = TokenWindow.histogram()
        for tokens in [1, 1, 2, 64, 64, 128, 4096] as [UInt64] { counts.record(tokens) }
        #expect(counts.bucketMean == counts.mean)
        #expect(TokenWindow.histogram().bucketMean == 0)
    }
}
