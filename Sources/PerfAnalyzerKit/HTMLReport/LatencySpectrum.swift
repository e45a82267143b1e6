import Histogram

/// The percentiles a spectrum is drawn at: dense where tails differ (99, 99.9, 99.99 …),
/// as the page spreads them on a log scale of 1 / (1 − percentile).
enum LatencySpectrum {
    static let percentiles: [Double] = [0, 10, 25, 50, 75, 80, 90, 95, 97, 98, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100]

    /// The latency at each percentile of an HDR histogram of nanoseconds, in µs; empty when it holds nothing.
    static func points(_ histogram: Histogram<UInt64>) -> [HTMLReportModel.SpectrumPoint] {
        guard histogram.totalCount > 0 else { return [] }
        return percentiles.map { percentile in
            let ns = percentile >= 100 ? histogram.max : histogram.valueAt(percentile: percentile)
            return HTMLReportModel.SpectrumPoint(percentile: percentile, latencyUs: Double(ns) / 1000)
        }
    }
}
