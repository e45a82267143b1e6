import Foundation

/// How a child process ended, waited for without hanging: Foundation's `Process` now and then
/// misses a child's exit when several children end together (the child stays a zombie and
/// `waitUntilExit()` never returns; seen once in a full run). This waits on Foundation and,
/// once the child has been a zombie for a moment, reaps it itself.
enum ChildExit {
    struct Status: Equatable {
        /// The exit code, or nil when a signal ended it.
        var code: Int32?
        var signal: Int32?
    }

    static func wait(_ process: Process, timeout: TimeInterval = 30) -> Status? {
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(timeout)
        var zombieSince: Date?
        while Date() < deadline {
            if !process.isRunning {
                return process.terminationReason == .exit ? Status(code: process.terminationStatus, signal: nil)
                                                          : Status(code: nil, signal: process.terminationStatus)
            }
            if isZombie(pid) {
                let since = zombieSince ?? Date()
                zombieSince = since
                var raw: Int32 = 0
                if Date().timeIntervalSince(since) > 1, waitpid(pid, &raw, WNOHANG) == pid {
                    return raw & 0x7F == 0 ? Status(code: (raw >> 8) & 0xFF, signal: nil) : Status(code: nil, signal: raw & 0x7F)
                }
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    private static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
