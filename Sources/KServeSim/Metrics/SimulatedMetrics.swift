/// The Prometheus page kserve-sim serves at `/metrics`: Triton's GPU and CPU gauges for two
/// simulated GPUs, with values that move from one read to the next but stay in fixed ranges
/// (so a test can check a client's averages), written the ways the text format allows and a
/// naive reader trips on: the second GPU's series carry another label before `gpu_uuid`, one
/// label value holds escaped quotes, a backslash and a newline, one gauge is NaN and one
/// sample has a timestamp. The page also counts its own reads.
public enum SimulatedMetrics {
    /// The simulated GPUs' UUIDs, first and second.
    public static let gpuUUIDs = ["GPU-5a1d0c3e-0000-4000-8000-5e5e00000001", "GPU-5a1d0c3e-0000-4000-8000-5e5e00000002"]

    /// The counter of reads, including the one that returns it.
    public static let readCountMetric = "kserve_sim_metrics_reads_total"

    /// The ranges each read's values fall in, per GPU (first, second), for tests.
    public static let utilizationRanges: [ClosedRange<Double>] = [0.30...0.50, 0.60...0.80]
    public static let powerRanges: [ClosedRange<Double>] = [100...140, 200...260]
    public static let memoryUsedRanges: [ClosedRange<UInt64>] = [4 * gib...(4 * gib + 3 * mib), 10 * gib...(10 * gib + 3 * mib)]
    public static let memoryTotals: [UInt64] = [16 * gib, 24 * gib]
    public static let cpuUtilizationRange: ClosedRange<Double> = 0.20...0.30
    public static let cpuMemoryUsedRange: ClosedRange<UInt64> = 2 * gib...(2 * gib + 7 * mib)

    static let gib: UInt64 = 1 << 30
    static let mib: UInt64 = 1 << 20

    /// The page for the `read`-th read (from 1). Values cycle with the read number, so they
    /// vary but are reproducible.
    public static func page(read: Int) -> String {
        let phase = Double(read % 5) / 4  // 0, 0.25, 0.5, 0.75, 1
        func within(_ range: ClosedRange<Double>) -> Double { range.lowerBound + (range.upperBound - range.lowerBound) * phase }
        let first = gpuUUIDs[0]
        let second = gpuUUIDs[1]
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ samples: [String]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            lines += samples
        }
        // The first GPU in the exact form perf_analyzer's pattern expects; the second with a
        // label before gpu_uuid, which that pattern misses.
        func perGPU(_ name: String, _ values: [String]) -> [String] {
            ["\(name){gpu_uuid=\"\(first)\"} \(values[0])",
             "\(name){device=\"1\",gpu_uuid=\"\(second)\"} \(values[1])"]
        }
        gauge("nv_gpu_utilization", "GPU utilization rate [0.0 - 1.0]",
              perGPU("nv_gpu_utilization", utilizationRanges.map { "\(within($0))" }))
        gauge("nv_gpu_power_usage", "GPU power usage in watts",
              perGPU("nv_gpu_power_usage", powerRanges.map { "\(within($0))" }))
        gauge("nv_gpu_memory_total_bytes", "GPU total memory, in bytes",
              perGPU("nv_gpu_memory_total_bytes", memoryTotals.map { "\($0)" }))
        gauge("nv_gpu_memory_used_bytes", "GPU used memory, in bytes",
              perGPU("nv_gpu_memory_used_bytes", memoryUsedRanges.map { "\($0.lowerBound + UInt64(read % 4) * mib)" }))
        gauge("nv_cpu_utilization", "CPU utilization rate [0.0 - 1.0]", ["nv_cpu_utilization \(within(cpuUtilizationRange))"])
        gauge("nv_cpu_memory_total_bytes", "CPU total memory (RAM), in bytes", ["nv_cpu_memory_total_bytes \(64 * gib)"])
        gauge("nv_cpu_memory_used_bytes", "CPU used memory (RAM), in bytes",
              ["nv_cpu_memory_used_bytes \(cpuMemoryUsedRange.lowerBound + UInt64(read % 8) * mib) \(1_700_000_000_000 + read)"])
        gauge("kserve_sim_info", "Which simulator this is; the note label shows the format's escapes.",
              ["kserve_sim_info{note=\"a \\\"quoted\\\" word, a \\\\ and a\\nnewline\",simulator=\"kserve-sim\"} 1"])
        gauge("kserve_sim_unmeasured", "A gauge with no reading.", ["kserve_sim_unmeasured NaN"])
        lines.append("# HELP \(readCountMetric) Reads of this page, this one included.")
        lines.append("# TYPE \(readCountMetric) counter")
        lines.append("\(readCountMetric) \(read)")
        return lines.joined(separator: "\n") + "\n"
    }
}
