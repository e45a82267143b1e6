/// One run's requests at one level, cut into equal time slices of its measurement windows:
/// the units the bootstrap draws. A slice keeps its length and the latencies of the requests
/// whose answer completed in it, so any set of slices gives a throughput (requests over time)
/// and latency percentiles.
struct SlicedLevel: Sendable {
    /// One slice: its length and its requests' latencies, as (index into `latencyValues`, count).
    struct Slice: Sendable {
        var durationNs: UInt64
        var valueIndices: [Int32] = []
        var counts: [Int32] = []
        var requests: Int = 0
    }

    /// Every distinct latency of the level in whole microseconds (the precision of the reports), ascending.
    let latencyValues: [UInt64]
    let slices: [Slice]

    /// How many slices a level is cut into at least, spread over its windows: enough for the
    /// bootstrap to draw from, long enough (a second's window gives slices of tens of ms) to
    /// keep requests that were slow together in one slice.
    static let targetSlices = 40

    /// A completed request: when its last response arrived and its latency, in ns.
    struct Completion: Sendable {
        var completedNs: UInt64
        var latencyNs: UInt64
    }

    /// Cuts each window (`start..<end`, in ns) into the same number of slices and puts each
    /// completion in the slice its answer completed in; completions outside every window are left out.
    init(windows: [Range<UInt64>], completions: [Completion]) {
        let perWindow = max(1, (Self.targetSlices + windows.count - 1) / max(1, windows.count))
        var slices: [Slice] = []
        for window in windows {
            let length = window.upperBound - window.lowerBound
            for part in 0..<UInt64(perWindow) {
                // Boundaries by index, so the slices' lengths add up to the window's exactly.
                slices.append(Slice(durationNs: Self.offset(part + 1, of: perWindow, in: length) - Self.offset(part, of: perWindow, in: length)))
            }
        }
        let starts = windows.map(\.lowerBound)
        var latenciesUs = [[UInt64]](repeating: [], count: slices.count)
        for completion in completions {
            // The last window that starts at or before the completion.
            var low = 0, high = starts.count
            while low < high {
                let middle = (low + high) / 2
                if starts[middle] <= completion.completedNs { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { continue }
            let window = windows[low - 1]
            guard completion.completedNs < window.upperBound else { continue }
            let length = window.upperBound - window.lowerBound
            var part = perWindow - 1
            while part > 0 && completion.completedNs - window.lowerBound < Self.offset(UInt64(part), of: perWindow, in: length) { part -= 1 }
            latenciesUs[(low - 1) * perWindow + part].append((completion.latencyNs + 500) / 1000)
        }
        let values = Array(Set(latenciesUs.joined())).sorted()
        var position: [UInt64: Int32] = [:]
        for (index, value) in values.enumerated() { position[value] = Int32(index) }
        for index in slices.indices {
            let sorted = latenciesUs[index].sorted()
            slices[index].requests = sorted.count
            var cursor = 0
            while cursor < sorted.count {
                var end = cursor + 1
                while end < sorted.count && sorted[end] == sorted[cursor] { end += 1 }
                slices[index].valueIndices.append(position[sorted[cursor]]!)
                slices[index].counts.append(Int32(end - cursor))
                cursor = end
            }
        }
        latencyValues = values
        self.slices = slices
    }

    /// Where slice `part` of `parts` begins within a window of `length` ns (no overflow however long).
    private static func offset(_ part: UInt64, of parts: Int, in length: UInt64) -> UInt64 {
        let count = UInt64(parts)
        return length / count * part + length % count * part / count
    }

    var requestCount: Int { slices.reduce(0) { $0 + $1.requests } }

    /// The metrics over the slices chosen (a slice may be chosen more than once), nil where
    /// undefined (no time, no request). `counts` is scratch space of `latencyValues.count`
    /// zeros, left zeroed.
    func figures(of chosen: [Int], metrics: [CompareMetric], counts: inout [Int32]) -> [Double?] {
        var durationNs: UInt64 = 0
        var requests = 0
        for index in chosen {
            let slice = slices[index]
            durationNs += slice.durationNs
            requests += slice.requests
            for entry in slice.valueIndices.indices {
                counts[Int(slice.valueIndices[entry])] += slice.counts[entry]
            }
        }
        // Nearest rank: the smallest latency with at least ⌈p·n/100⌉ requests at or below it.
        let percentiles = metrics.compactMap { metric -> Int? in
            if case .latencyPercentile(let percentile) = metric { return percentile }
            return nil
        }
        var found: [Int: Double] = [:]
        if requests > 0, !percentiles.isEmpty {
            var pending = percentiles.map { percentile in (percentile, max(1, (percentile * requests + 99) / 100)) }.sorted { $0.1 < $1.1 }
            var seen = 0
            var index = 0
            while !pending.isEmpty && index < counts.count {
                seen += Int(counts[index])
                while let next = pending.first, seen >= next.1 {
                    found[next.0] = Double(latencyValues[index])
                    pending.removeFirst()
                }
                index += 1
            }
        }
        for index in chosen {
            for entry in slices[index].valueIndices { counts[Int(entry)] = 0 }
        }
        return metrics.map { metric in
            switch metric {
            case .throughput: durationNs > 0 ? Double(requests) * 1e9 / Double(durationNs) : nil
            case .latencyPercentile(let percentile): found[percentile]
            }
        }
    }

    /// The metrics over every slice once: the level as measured.
    func figures(_ metrics: [CompareMetric]) -> [Double?] {
        var counts = [Int32](repeating: 0, count: latencyValues.count)
        return figures(of: Array(slices.indices), metrics: metrics, counts: &counts)
    }
}
