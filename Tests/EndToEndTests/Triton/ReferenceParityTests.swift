import Foundation
import Testing

/// The same flags given to the reference perf_analyzer 2.50 and to ours, against the same
/// Triton model: the files and sections must have the same structure. (Numbers vary from
/// run to run; they are compared in bench/, not here.)
extension EndToEnd {
@Suite("Parity with the reference perf_analyzer")
struct ReferenceParityTests {
    /// Runs a tool, retrying a few times when a noisy level fails to stabilize (exit 2).
    private func run(_ tool: String, _ arguments: [String]) throws -> CommandResult {
        var result = try CommandRunner.run(tool, arguments, timeout: 180)
        var attempts = 1
        while result.status == 2 && attempts < 4 {
            result = try CommandRunner.run(tool, arguments, timeout: 180)
            attempts += 1
        }
        return result
    }

    /// Both tools with `arguments` plus `-f`; returns each one's stdout and CSV text.
    private func both(_ arguments: [String]) throws -> (ours: (String, String), theirs: (String, String)) {
        let triton = try TritonEnvironment.current()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ourCSV = directory.appendingPathComponent("ours.csv").path
        let theirCSV = directory.appendingPathComponent("theirs.csv").path
        let ours = try run(BuiltTools.perfAnalyzer, arguments + ["-u", triton.httpURL, "-f", ourCSV])
        let theirs = try run(triton.referencePerfAnalyzer, arguments + ["-u", triton.httpURL, "-f", theirCSV])
        #expect(ours.status == 0, "ours: \(ours.stderr)")
        #expect(theirs.status == 0, "perf_analyzer: \(theirs.stderr)")
        return ((ours.stdout, (try? String(contentsOfFile: ourCSV, encoding: .utf8)) ?? ""),
                (theirs.stdout, (try? String(contentsOfFile: theirCSV, encoding: .utf8)) ?? ""))
    }

    /// The report's structure: each line's label (text before the first ':' or digit run),
    /// with the levels' own numbers kept for the level headers.
    private func skeleton(_ stdout: String) -> [String] {
        stdout.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("Request concurrency:") || line.hasPrefix("Concurrency:") {
                return String(line.prefix { $0 != "," })
            }
            return String(line.prefix { $0 != ":" && !$0.isNumber })
        }
    }

    private func levels(_ csv: String) -> [String] {
        csv.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }.sorted()
    }

    @Test("sweep: same CSV header, same levels, same report sections", arguments: [
        [] as [String], ["--verbose-csv"], ["--percentile=95"], ["--verbose-csv", "--percentile=90"],
    ])
    func sweep(extra: [String]) throws {
        let result = try both(["-m", "identity_fp32", "--concurrency-range", "1:2", "-p", "500", "-s", "100"] + extra)
        let ourLines = result.ours.1.split(separator: "\n")
        let theirLines = result.theirs.1.split(separator: "\n")
        #expect(ourLines.first == theirLines.first)
        #expect(levels(result.ours.1) == levels(result.theirs.1))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("fixed request count, batch 4: same sections and header")
    func requestCount() throws {
        let result = try both(["-m", "identity_fp32", "--concurrency-range", "2", "--request-count", "400", "-b", "4"])
        #expect(result.ours.1.split(separator: "\n").first == result.theirs.1.split(separator: "\n").first)
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("ensemble: composing-model sections match")
    func ensemble() throws {
        let result = try both(["-m", "ensemble_add_sub_identity", "--concurrency-range", "1", "--request-count", "200"])
        #expect(result.ours.1.split(separator: "\n").first == result.theirs.1.split(separator: "\n").first)
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }
}
}
