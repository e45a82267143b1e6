import Foundation
import Testing

/// The live progress line, seen in a real terminal: tmux runs perf-analyzer, and the test reads
/// the screen while it measures and after it ends.
extension EndToEnd {
@Suite("Live progress in a terminal")
struct ProgressLineEndToEndTests {
    private func tmux(_ arguments: [String]) async throws -> String {
        let result = try await CommandRunner.run("/usr/bin/env", ["tmux"] + arguments, timeout: 20)
        return result.stdout
    }

    /// Ends the session; synchronous, for a `defer`.
    private func killSession(_ name: String) {
        _ = try? CommandRunner.run("/usr/bin/env", ["tmux", "kill-session", "-t", name], timeout: 20)
    }

    /// Starts the session. Through python3's subprocess, which closes every other descriptor
    /// first: a tmux started straight from the test process never came back.
    private func startSession(_ name: String, command: String) async throws {
        let script = "import subprocess, sys; sys.exit(subprocess.run(['tmux', 'new-session', '-d', '-s', sys.argv[1], '-x', '220', '-y', '60', sys.argv[2]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode)"
        let result = try await CommandRunner.run("/usr/bin/env", ["python3", "-c", script, name, command], timeout: 20)
        #expect(result.status == 0 && !result.timedOut, "tmux new-session: \(result.stderr)")
    }

    @Test("one line updates in place while a level is measured; the finished screen holds only the report")
    func terminal() async throws {
        let sim = try SimulatorProcess(arguments: ["--delay-us", "500"])
        defer { sim.stop() }
        let session = "spa-progress-\(UUID().uuidString.prefix(8))"
        let marker = "RUN-ENDED-\(UUID().uuidString.prefix(8))"
        let command = "'\(BuiltTools.perfAnalyzer)' -m identity_fp32 -u \(sim.url) --concurrency-range 1:2 -p 1500 -s 100; echo \(marker) $?; sleep 60"
        try await startSession(session, command: command)
        defer { killSession(session) }

        // While the first level runs: the progress line names it and counts its window.
        var sawProgress = false
        var sawFigures = false
        let deadline = Date().addingTimeInterval(30)
        var screen = ""
        while Date() < deadline {
            try await Task.sleep(nanoseconds: 200_000_000)
            screen = try await tmux(["capture-pane", "-p", "-t", session])
            if screen.contains(marker) { break }
            for line in screen.split(separator: "\n") where line.hasPrefix("[concurrency ") {
                sawProgress = sawProgress || line.contains(" · ") && line.contains("requests so far")
                sawFigures = sawFigures || line.contains("last window") && line.contains("infer/sec")
            }
        }
        #expect(sawProgress, "screen:\n\(screen)")
        #expect(sawFigures, "screen:\n\(screen)")
        #expect(screen.contains("\(marker) 0"), "screen:\n\(screen)")
        // Once done, the line is gone and the report reads as it does without a terminal.
        #expect(!screen.contains("requests so far"), "screen:\n\(screen)")
        #expect(screen.contains("Request concurrency: 1\n"))
        #expect(screen.contains("Request concurrency: 2\n"))
        #expect(screen.contains("Inferences/Second vs. Client Average Batch Latency"))
    }

    @Test("stderr that is not a terminal gets no progress line")
    func noTerminal() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", sim.url, "-p", "300", "-s", "100"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }
}
}
