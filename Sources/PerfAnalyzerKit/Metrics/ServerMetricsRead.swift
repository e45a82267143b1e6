/// What one read of the server's metrics said: per GPU (the `gpu_uuid` label) the four
/// figures perf_analyzer reports, and beyond them the server's CPU utilization and memory
/// (Triton exports those on machines without GPUs too).
public struct ServerMetricsRead: Sendable, Equatable {
    /// The metrics read, by their Prometheus names.
    public enum Metric: String, Sendable, CaseIterable {
        case gpuUtilization = "nv_gpu_utilization"
        case gpuPowerUsage = "nv_gpu_power_usage"
        case gpuMemoryUsed = "nv_gpu_memory_used_bytes"
        case gpuMemoryTotal = "nv_gpu_memory_total_bytes"
        case cpuUtilization = "nv_cpu_utilization"
        case cpuMemoryUsed = "nv_cpu_memory_used_bytes"
    }

    /// 0 to 1.
    public var gpuUtilization: [String: Double] = [:]
    public var gpuPowerWatts: [String: Double] = [:]
    public var gpuMemoryUsedBytes: [String: UInt64] = [:]
    public var gpuMemoryTotalBytes: [String: UInt64] = [:]
    /// 0 to 1, the whole machine's as Triton measures it.
    public var cpuUtilization: Double? = nil
    public var cpuMemoryUsedBytes: UInt64? = nil

    public init() {}

    /// Picks the six metrics out of a parsed page. Labels other than `gpu_uuid` are ignored, in
    /// any order; a value that is not finite (NaN, ±Inf) is left out, so it cannot poison an
    /// average; a GPU series without `gpu_uuid` cannot be told apart and is left out too.
    public init(samples: [PrometheusSample]) {
        for sample in samples {
            guard let metric = Metric(rawValue: sample.name), sample.value.isFinite else { continue }
            let uuid = sample.labels["gpu_uuid"]
            switch metric {
            case .gpuUtilization: if let uuid { gpuUtilization[uuid] = sample.value }
            case .gpuPowerUsage: if let uuid { gpuPowerWatts[uuid] = sample.value }
            case .gpuMemoryUsed: if let uuid { gpuMemoryUsedBytes[uuid] = Self.bytes(sample.value) }
            case .gpuMemoryTotal: if let uuid { gpuMemoryTotalBytes[uuid] = Self.bytes(sample.value) }
            case .cpuUtilization: cpuUtilization = sample.value
            case .cpuMemoryUsed: cpuMemoryUsedBytes = Self.bytes(sample.value)
            }
        }
    }

    /// The metrics this read did not carry, in `Metric.allCases` order.
    public var missing: [Metric] {
        Metric.allCases.filter { metric in
            switch metric {
            case .gpuUtilization: return gpuUtilization.isEmpty
            case .gpuPowerUsage: return gpuPowerWatts.isEmpty
            case .gpuMemoryUsed: return gpuMemoryUsedBytes.isEmpty
            case .gpuMemoryTotal: return gpuMemoryTotalBytes.isEmpty
            case .cpuUtilization: return cpuUtilization == nil
            case .cpuMemoryUsed: return cpuMemoryUsedBytes == nil
            }
        }
    }

    /// Byte counts travel as floats; a negative one reads as 0, one beyond 64 bits as the largest.
    private static func bytes(_ value: Double) -> UInt64 {
        value <= 0 ? 0 : (value >= 0x1p64 ? .max : UInt64(value))
    }
}
