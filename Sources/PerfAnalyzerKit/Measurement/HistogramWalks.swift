import Histogram

/// The histogram library's generic code that is not inlinable runs unspecialized in a
/// release build: a walk over its 30,720 buckets took about a millisecond, and creating one
/// (`Array(repeating:count:)` through value witnesses) as long. Both happened on the load
/// loops at every window cut and in every report. The same work, specialized here.
extension Histogram where Count == UInt64 {
    /// An empty latency histogram (1 ns to 600 s, three significant digits), made once.
    /// Copies share its buckets until their first record, which copies them with one
    /// `memcpy`; a histogram that never gets a value costs no buckets of its own.
    static let emptyLatency = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: ClientWindow.maxTrackableLatencyNs,
                                        numberOfSignificantValueDigits: .three)

    /// The library's `mean` (each recorded value counted at the middle of its bucket).
    var bucketMean: Double { summary(percentiles: []).mean }

    /// The library's `valueAtPercentile`, the same walk specialized: the highest value
    /// equivalent to the first bucket where the running count reaches the percentile's share,
    /// kept between the smallest and the largest value recorded.
    func valueAt(percentile: Double) -> UInt64 {
        guard percentile != 0 else { return min }
        guard percentile < 100 else { return maxRecorded }
        let wanted = countReaching(percentile)
        for entry in recordedValues() where entry.totalCountToThisValue >= wanted {
            return withinRecorded(entry.value)
        }
        return 0
    }

    /// The library's `mean` and `valueAt(percentile:)` of each of `percentiles` (ascending,
    /// each above 0 and below 100), in one walk: a report's line asks for all of them together.
    func summary(percentiles: [Double]) -> (mean: Double, values: [UInt64]) {
        guard totalCount > 0 else { return (0, percentiles.map { _ in 0 }) }
        let wanted = percentiles.map(countReaching)
        var values: [UInt64] = []
        values.reserveCapacity(percentiles.count)
        var total: Double = 0
        for entry in recordedValues() {
            let lowest = lowestEquivalentForValue(entry.value)
            let middle = lowest + ((highestEquivalentForValue(entry.value) - lowest + 1) >> 1)
            total += Double(middle) * Double(entry.count)
            while values.count < wanted.count, entry.totalCountToThisValue >= wanted[values.count] {
                values.append(withinRecorded(entry.value))
            }
        }
        // As the library: 0 where the walk ends short of the share (it cannot, counts add up).
        while values.count < wanted.count { values.append(0) }
        return (total / Double(totalCount), values)
    }

    /// A bucket's highest equivalent value, kept between the smallest and the largest value
    /// recorded (the library's percentiles never lie outside them).
    private func withinRecorded(_ value: UInt64) -> UInt64 {
        Swift.max(Swift.min(value, maxRecorded), min)
    }

    /// How many values the running count must reach for `percentile` (0 < percentile < 100).
    private func countReaching(_ percentile: Double) -> UInt64 {
        // One ulp off, so rounding up cannot step into the next bucket.
        let share = Swift.min(Swift.max(percentile.nextDown, 0), 100)
        return Swift.max(1, UInt64((share * Double(totalCount) / 100).rounded(.up)))
    }
}
