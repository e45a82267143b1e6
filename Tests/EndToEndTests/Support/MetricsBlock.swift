/// One level's `Server Prometheus Metrics:` block of the console report, read back.
struct MetricsBlock {
    /// Section title (`Avg GPU Utilization`, ...) → GPU UUID → the number before its unit.
    var gpu: [String: [String: Double]] = [:]
    /// Section titles in the order printed.
    var titles: [String] = []
    var cpuUtilizationPercent: Double?
    var cpuMemoryBytes: Double?

    /// Every block in a report, one per level, in order.
    static func all(in stdout: String) -> [MetricsBlock] {
        var blocks: [MetricsBlock] = []
        var current: MetricsBlock?
        var section = ""
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "  Server Prometheus Metrics: " {
                if let current { blocks.append(current) }
                current = MetricsBlock()
                continue
            }
            guard current != nil else { continue }
            guard line.hasPrefix("    ") else {
                blocks.append(current!)
                current = nil
                continue
            }
            let text = line.dropFirst(4)
            if text.hasPrefix("  ") {
                // "  <uuid> : <number><unit>"
                let parts = text.dropFirst(2).components(separatedBy: " : ")
                guard parts.count == 2 else { continue }
                current!.gpu[section, default: [:]][parts[0]] = number(parts[1])
            } else if text.hasPrefix("Avg CPU Utilization: ") {
                current!.cpuUtilizationPercent = number(String(text.dropFirst("Avg CPU Utilization: ".count)))
            } else if text.hasPrefix("Max CPU Memory Usage: ") {
                current!.cpuMemoryBytes = number(String(text.dropFirst("Max CPU Memory Usage: ".count)))
            } else if text.hasSuffix(":") {
                section = String(text.dropLast())
                current!.titles.append(section)
            }
        }
        if let current { blocks.append(current) }
        return blocks
    }

    /// The leading number of "45.5%", "120 watts", "4294967296 bytes".
    private static func number(_ text: String) -> Double? {
        Double(text.prefix { $0.isNumber || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-" })
    }
}
