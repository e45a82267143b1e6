import Foundation
import NIOCore

/// How many cores this process may run on: NIO's count (cgroup quota, cpuset) narrowed by
/// the CPU affinity mask, so a client started under `taskset -c 0` gets one load thread
/// instead of two threads fighting over one core.
enum UsableCores {
    static let count: Int = {
        let system = System.coreCount
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let allowed = affinityCount(status: status) else { return system }
        return max(1, min(system, allowed))
    }()

    /// Cores set in the `Cpus_allowed:` mask of a `/proc/<pid>/status` text (hex words
    /// separated by commas); nil when the line is missing or unreadable.
    static func affinityCount(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        var count = 0
        for character in line.dropFirst("Cpus_allowed:".count) where character != "," && !character.isWhitespace {
            guard let nibble = character.hexDigitValue else { return nil }
            count += nibble.nonzeroBitCount
        }
        return count
    }
}
