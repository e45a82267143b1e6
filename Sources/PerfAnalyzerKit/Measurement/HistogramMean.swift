import Histogram

extension Histogram where Count == UInt64 {
    /// The library's `mean` (each recorded value counted at the middle of its bucket), computed
    /// here: the library's own runs unspecialized and took milliseconds per histogram, a cost
    /// every report paid once per metric. The loop below is the same walk, specialized.
    var bucketMean: Double {
        guard totalCount > 0 else { return 0 }
        var total: Double = 0
        for entry in recordedValues() {
            let lowest = lowestEquivalentForValue(entry.value)
            let middle = lowest + ((highestEquivalentForValue(entry.value) - lowest + 1) >> 1)
            total += Double(middle) * Double(entry.count)
        }
        return total / Double(totalCount)
    }
}
