/// A level's server metrics, merged over the reads that fell in its reported windows the way
/// perf_analyzer merges them: utilization and power averaged per GPU over the reads that
/// carried that GPU, memory used the largest seen, total memory the first seen. The CPU
/// figures follow the same rules (utilization averaged, memory the largest).
public struct ServerMetrics: Sendable, Equatable {
    public var gpuUtilization: [String: Double] = [:]
    public var gpuPowerWatts: [String: Double] = [:]
    public var gpuMemoryUsedBytes: [String: UInt64] = [:]
    public var gpuMemoryTotalBytes: [String: UInt64] = [:]
    public var cpuUtilization: Double? = nil
    public var cpuMemoryUsedBytes: UInt64? = nil
    /// How many reads were merged.
    public var readCount: Int = 0

    public init(merging reads: [ServerMetricsRead]) {
        readCount = reads.count
        gpuUtilization = Self.average(reads.map(\.gpuUtilization))
        gpuPowerWatts = Self.average(reads.map(\.gpuPowerWatts))
        for read in reads {
            gpuMemoryUsedBytes.merge(read.gpuMemoryUsedBytes) { max($0, $1) }
            gpuMemoryTotalBytes.merge(read.gpuMemoryTotalBytes) { first, _ in first }
            if let used = read.cpuMemoryUsedBytes { cpuMemoryUsedBytes = max(cpuMemoryUsedBytes ?? 0, used) }
        }
        let cpu = reads.compactMap(\.cpuUtilization)
        cpuUtilization = cpu.isEmpty ? nil : cpu.reduce(0, +) / Double(cpu.count)
    }

    /// The most GPUs any of the four figures has.
    public var gpuCount: Int {
        max(gpuUtilization.count, gpuPowerWatts.count, gpuMemoryUsedBytes.count, gpuMemoryTotalBytes.count)
    }

    private static func average(_ maps: [[String: Double]]) -> [String: Double] {
        var sums: [String: (total: Double, count: Int)] = [:]
        for map in maps {
            for (uuid, value) in map {
                let sum = sums[uuid] ?? (0, 0)
                sums[uuid] = (sum.total + value, sum.count + 1)
            }
        }
        return sums.mapValues { $0.total / Double($0.count) }
    }
}
