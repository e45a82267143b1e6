import Foundation
import Testing

/// The same flags given to the reference perf_analyzer 2.50 and to ours, against the same
/// Triton model: the files and sections must have the same structure. (Numbers vary from
/// run to run; they are compared in bench/, not here.)
extension EndToEnd {
@Suite("Parity with the reference perf_analyzer")
struct ReferenceParityTests {
    /// Runs a tool, retrying a few times when a noisy level fails to stabilize (exit 2).
    private func run(_ tool: String, _ arguments: [String]) async throws -> CommandResult {
        var result = try await CommandRunner.run(tool, arguments, timeout: 180)
        var attempts = 1
        while result.status == 2 && attempts < 4 {
            result = try await CommandRunner.run(tool, arguments, timeout: 180)
            attempts += 1
        }
        return result
    }

    /// Both tools with `arguments` plus `-f`; returns each one's stdout and CSV text.
    private func both(_ arguments: [String], grpc: Bool = false) async throws -> (ours: (String, String), theirs: (String, String)) {
        let triton = try TritonEnvironment.current()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ourCSV = directory.appendingPathComponent("ours.csv").path
        let theirCSV = directory.appendingPathComponent("theirs.csv").path
        let server = grpc ? ["-i", "grpc", "-u", triton.grpcURL] : ["-u", triton.httpURL]
        let ours = try await run(BuiltTools.perfAnalyzer, arguments + server + ["-f", ourCSV])
        let theirs = try await run(triton.referencePerfAnalyzer, arguments + server + ["-f", theirCSV])
        #expect(ours.status == 0, "ours: \(ours.stderr)")
        #expect(theirs.status == 0, "perf_analyzer: \(theirs.stderr)")
        return ((ours.stdout, (try? String(contentsOfFile: ourCSV, encoding: .utf8)) ?? ""),
                (theirs.stdout, (try? String(contentsOfFile: theirCSV, encoding: .utf8)) ?? ""))
    }

    /// Lines only our report has (docs/compatibility.md): the client's CPU per request, and the
    /// server's CPU figures under the metrics section.
    private static let ourLines = ["    Client CPU per request: ", "    Client health: ", "[WARNING] The client limited this level", "    Avg CPU Utilization: ", "    Max CPU Memory Usage: ",
                                   // Either tool warns when its own threads were busy, which differs between them
                                   // (and with a debug build): not a difference of format.
                                   "[WARNING] Perf Analyzer is not able to keep up with the desired load."]
    /// CSV columns only ours has, after all of perf_analyzer's.
    private static let ourColumns = [",Avg Server CPU Utilization", ",Max Server CPU Memory", ",Client CPU per Request",
                                     ",Client CPU Utilization", ",Client Run Queue Wait", ",Client Steal", ",Client Limited"]

    /// Our CSV header without our own columns: what perf_analyzer's must be.
    private func theirPart(ofHeader header: Substring?) -> String? {
        header.map { Self.ourColumns.reduce(String($0)) { $0.replacingOccurrences(of: $1, with: "") } }
    }

    /// The report's structure: each line's label (text before the first ':' or digit run),
    /// with the levels' own numbers kept for the level headers. Our own extra lines are left out.
    private func skeleton(_ stdout: String) -> [String] {
        var inLLM = false
        return stdout.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !Self.ourLines.contains { line.hasPrefix($0) } }
            // Our `LLM:` section (a decoupled model's token metrics) and its indented lines.
            .filter { line in
                if line.hasPrefix("  LLM: ") { inLLM = true; return false }
                if inLLM, line.hasPrefix("    ") { return false }
                inLLM = false
                return true
            }
            .map { line -> String in
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
    func sweep(extra: [String]) async throws {
        let result = try await both(["-m", "identity_fp32", "--concurrency-range", "1:2", "-p", "500", "-s", "100"] + extra)
        let ourLines = result.ours.1.split(separator: "\n")
        let theirLines = result.theirs.1.split(separator: "\n")
        #expect(theirPart(ofHeader: ourLines.first) == theirLines.first.map(String.init))
        #expect(levels(result.ours.1) == levels(result.theirs.1))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("fixed request count, batch 4: same sections and header")
    func requestCount() async throws {
        let result = try await both(["-m", "identity_fp32", "--concurrency-range", "2", "--request-count", "400", "-b", "4"])
        #expect(theirPart(ofHeader: result.ours.1.split(separator: "\n").first) == result.theirs.1.split(separator: "\n").first.map(String.init))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("ensemble: composing-model sections match")
    func ensemble() async throws {
        let result = try await both(["-m", "ensemble_add_sub_identity", "--concurrency-range", "1", "--request-count", "200"])
        #expect(theirPart(ofHeader: result.ours.1.split(separator: "\n").first) == result.theirs.1.split(separator: "\n").first.map(String.init))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("response cache: same cache lines and CSV columns", arguments: [[] as [String], ["--verbose-csv"]])
    func responseCache(extra: [String]) async throws {
        let result = try await both(["-m", "identity_fp32_cached", "--input-data", "zero", "--request-count", "200"] + extra)
        #expect(theirPart(ofHeader: result.ours.1.split(separator: "\n").first) == result.theirs.1.split(separator: "\n").first.map(String.init))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("--bls-composing-models: same composing-model sections")
    func blsComposingModels() async throws {
        let result = try await both(["-m", "bls_add_sub_identity", "--bls-composing-models", "add_sub,identity_int32", "--request-count", "100"])
        #expect(theirPart(ofHeader: result.ours.1.split(separator: "\n").first) == result.theirs.1.split(separator: "\n").first.map(String.init))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("deprecated -t: the same level as perf_analyzer")
    func deprecatedConcurrency() async throws {
        let result = try await both(["-m", "identity_fp32", "-t", "3", "-p", "500", "-s", "100"])
        #expect(levels(result.ours.1) == ["3"])
        #expect(levels(result.ours.1) == levels(result.theirs.1))
    }

    @Test("gRPC: same CSV header, levels and report sections", arguments: [[] as [String], ["--async", "--verbose-csv"]])
    func grpcSweep(extra: [String]) async throws {
        let result = try await both(["-m", "identity_fp32", "--concurrency-range", "1:2", "-p", "500", "-s", "100"] + extra, grpc: true)
        #expect(theirPart(ofHeader: result.ours.1.split(separator: "\n").first) == result.theirs.1.split(separator: "\n").first.map(String.init))
        #expect(levels(result.ours.1) == levels(result.theirs.1))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("--collect-metrics with --verbose-csv: the same metrics section (no GPU on this Triton) and the same GPU columns",
          arguments: [false, true])
    func collectMetrics(grpc: Bool) async throws {
        let metrics = try TritonEnvironment.metricsURL()
        let result = try await both(["-m", "identity_fp32", "--concurrency-range", "1", "-p", "500", "-s", "100", "--verbose-csv",
                                     "--collect-metrics", "--metrics-url", metrics, "--metrics-interval", "200"], grpc: grpc)
        let theirHeader = result.theirs.1.split(separator: "\n").first.map(String.init)
        #expect(theirHeader?.hasSuffix(",response wait,Avg GPU Utilization,Avg GPU Power Usage,Max GPU Memory Usage,Total GPU Memory") == true)
        #expect(theirPart(ofHeader: result.ours.1.split(separator: "\n").first) == theirHeader)
        #expect(result.theirs.0.contains("  Server Prometheus Metrics: \n    Avg GPU Utilization:\n"))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }

    @Test("gRPC streaming, decoupled model: response throughput in the report and the CSV")
    func grpcDecoupled() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parity-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in3.json").path
        try #"{"data": [{"IN": [3]}]}"#.write(toFile: input, atomically: true, encoding: .utf8)
        let result = try await both(["-m", "repeat_decoupled", "--streaming", "--concurrency-range", "1:2", "-p", "500", "-s", "100",
                                     "--input-data", input], grpc: true)
        #expect(theirPart(ofHeader: result.ours.1.split(separator: "\n").first) == result.theirs.1.split(separator: "\n").first.map(String.init))
        #expect(result.ours.1.hasPrefix("Concurrency,Inferences/Second,Response Throughput,"))
        #expect(skeleton(result.ours.0) == skeleton(result.theirs.0), "ours:\n\(result.ours.0)\nperf_analyzer:\n\(result.theirs.0)")
    }
}
}
