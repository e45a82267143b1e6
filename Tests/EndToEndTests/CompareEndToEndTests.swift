import Foundation
import Testing

/// `perf-analyzer compare` on the files of real runs against kserve-sim: two runs against one
/// server pass, a run against a slower server is flagged, bad files are one line and exit 1.
extension EndToEnd {
@Suite("Compare runs")
struct CompareEndToEndTests {
    static func temporaryPath(_ name: String, _ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).\(suffix)").path
    }

    /// One measured run at concurrency 2 and 4, written as an export and a CSV file.
    static func measure(_ sim: SimulatorProcess, name: String) async throws -> (export: String, csv: String) {
        let export = temporaryPath(name, "json")
        let csv = temporaryPath(name, "csv")
        // Loose stability, so a busy machine still settles; 1 s windows give each level over a thousand requests.
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "2:4:2", "-p", "1000", "-s", "50", "-r", "20",
            "--profile-export-file", export, "-f", csv,
        ], timeout: 180)
        #expect(result.status == 0, "\(result.stderr)")
        return (export, csv)
    }

    static func compare(_ arguments: [String]) async throws -> CommandResult {
        try await CommandRunner.run(BuiltTools.perfAnalyzer, ["compare"] + arguments, timeout: 120)
    }

    /// The table row of one level and metric.
    static func row(_ stdout: String, level: String, metric: String) -> String? {
        stdout.split(separator: "\n").map(String.init).first { $0.hasPrefix(level + " ") && $0.contains("  \(metric)  ") }
    }

    @Test("two runs against one server pass; a run against a server 20× slower regresses p50, p99 and throughput, from exports and from CSV")
    func plantedRegression() async throws {
        // Both servers add a fixed compute delay. On a busy 2-core machine the p99 is mostly
        // the machine's stalls (tens of ms, now and then hundreds), so the planted change puts
        // every request of the slow run above them: 5 ms → 100 ms.
        let server = try SimulatorProcess(arguments: ["--delay-us", "5000"])
        let base = try await Self.measure(server, name: "compare-base")
        let same = try await Self.measure(server, name: "compare-same")
        server.stop()
        let slower = try SimulatorProcess(arguments: ["--delay-us", "100000"])
        defer { slower.stop() }
        let slow = try await Self.measure(slower, name: "compare-slow")
        slower.stop()
        defer { for path in [base.export, base.csv, same.export, same.csv, slow.export, slow.csv] { try? FileManager.default.removeItem(atPath: path) } }

        for (from, to) in [(base.export, same.export), (base.csv, same.csv)] {
            // Two identical runs on a shared 2-core machine can differ by a third at p99 (a CSV
            // file's p99 is a handful of requests); the threshold is that margin.
            let result = try await Self.compare([from, to, "--threshold", "50"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("No level regressed beyond 50%."), "\(result.stdout)")
            for level in ["concurrency 2", "concurrency 4"] {
                #expect(Self.row(result.stdout, level: level, metric: "p99 latency") != nil, "\(result.stdout)")
            }
        }

        for (from, to, tested) in [(base.export, slow.export, true), (base.csv, slow.csv, false)] {
            let result = try await Self.compare([from, to])
            #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
            for level in ["concurrency 2", "concurrency 4"] {
                for metric in ["throughput", "p50 latency", "p99 latency"] {
                    let row = Self.row(result.stdout, level: level, metric: metric)
                    #expect(row?.hasSuffix("REGRESSION") == true, "\(level) \(metric): \(result.stdout)")
                }
            }
            #expect(result.stdout.contains("Regressed: concurrency 2 (throughput, p50 latency, p99 latency); concurrency 4 (throughput, p50 latency, p99 latency)."),
                    "\(result.stdout)")
            #expect(result.stdout.contains("no significance test is possible") == !tested, "\(result.stdout)")
            // Read the other way round, the same change is an improvement: exit 0.
            let reversed = try await Self.compare([to, from])
            #expect(reversed.status == 0, "\(reversed.stdout)\(reversed.stderr)")
            #expect(Self.row(reversed.stdout, level: "concurrency 2", metric: "p50 latency")?.hasSuffix("improvement") == true, "\(reversed.stdout)")
        }

        // The verdict is reproducible: the same files and seed print the same table.
        let first = try await Self.compare([base.export, slow.export, "--seed", "11"])
        let second = try await Self.compare([base.export, slow.export, "--seed", "11"])
        #expect(first.stdout == second.stdout)
    }

    @Test("bad input is one line on stderr naming the file and what was expected, exit 1")
    func badInput() async throws {
        let notJSON = Self.temporaryPath("compare-bad", "json")
        let noExperiments = Self.temporaryPath("compare-bad", "json")
        let export = Self.temporaryPath("compare-good", "json")
        let csvWithoutColumns = Self.temporaryPath("compare-bad", "csv")
        let missing = Self.temporaryPath("compare-missing", "json")
        try "perf_analyzer said hello".write(toFile: notJSON, atomically: true, encoding: .utf8)
        try #"{"version":"2.50","service_kind":"triton","endpoint":""}"#.write(toFile: noExperiments, atomically: true, encoding: .utf8)
        try #"{"experiments":[{"experiment":{"mode":"concurrency","value":1},"requests":[{"timestamp":1,"response_timestamps":[5]}],"window_boundaries":[0,10]}]}"#
            .write(toFile: export, atomically: true, encoding: .utf8)
        try "Concurrency,Inferences/Second,Client Send\n1,100,5\n".write(toFile: csvWithoutColumns, atomically: true, encoding: .utf8)
        defer { for path in [notJSON, noExperiments, export, csvWithoutColumns] { try? FileManager.default.removeItem(atPath: path) } }

        let cases: [([String], String)] = [
            ([missing, export], "error: \(missing): no such file"),
            ([export, notJSON], "error: \(notJSON): not JSON: expected a profile export"),
            ([noExperiments, export], "error: \(noExperiments): expected a profile export with an \"experiments\" list, found none"),
            ([csvWithoutColumns, csvWithoutColumns], "error: \(csvWithoutColumns): CSV header: expected a \"p50 latency\" column"),
            ([export, csvWithoutColumns, "--metric", "throughput"], "error: BASE is a profile export and NEW a CSV file"),
            ([export, export, "--metric", "p100"], "error: --metric: expected throughput or pN with N from 1 to 99, found \"p100\""),
            ([export], "error: Missing expected argument '<new>'"),
            ([export, export, "--threshold", "-3"], "error: --threshold: expected a percentage from 0 to 1000, found -3.0"),
        ]
        for (arguments, expected) in cases {
            let result = try await Self.compare(arguments)
            #expect(result.status == 1, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
        }
        // A well-formed export compared with itself: nothing changed, nothing judged worse.
        let itself = try await Self.compare([export, export])
        #expect(itself.status == 0, "\(itself.stdout)\(itself.stderr)")
    }
}
}
