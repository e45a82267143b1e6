import Foundation
import KServeProtocol
import Testing

/// `-i grpc` and `--streaming` against a kserve-sim process: counts from the simulator's own
/// statistics, headers and parameters from its record file.
extension EndToEnd {
@Suite("perf-analyzer -i grpc against kserve-sim")
struct SimulatorGRPCEndToEndTests {
    private func recorded(_ file: URL) throws -> [[String: Any]] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
    }

    @Test("unary: the simulator served exactly the requests reported; -H arrives as metadata")
    func unary() async throws {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("grpc-record-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: record) }
        let sim = try SimulatorProcess(arguments: ["--record", record.path])
        defer { sim.stop() }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-i", "grpc", "-u", sim.grpcURL, "--concurrency-range", "3", "--request-count", "150",
            "-b", "2", "-H", "X-Run-Tag: grpc-e2e",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 150)
        #expect(stats.inference_count.value == 300)
        let lines = try recorded(record)
        #expect(lines.count == 150)
        #expect(lines.allSatisfy { ($0["headers"] as? [String: String])?["x-run-tag"] == "grpc-e2e" })
    }

    @Test("--streaming with the decoupled model: response throughput is the model's responses per request")
    func decoupled() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("decoupled-\(UUID().uuidString).json").path
        try #"{"data": [{"IN": [4]}, {"IN": [0]}]}"#.write(toFile: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: input) }
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("decoupled-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "repeat_decoupled", "-i", "grpc", "-u", sim.grpcURL, "--streaming", "--concurrency-range", "2",
            "--request-count", "100", "--input-data", input, "-f", csv,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let stats = try await sim.statistics(model: "repeat_decoupled")
        #expect(stats.inference_stats.success.count.value == 100)
        let requests = try #require(reportedRate("Throughput", in: result.stdout))
        let responses = try #require(reportedRate("Response Throughput", in: result.stdout))
        #expect(abs(responses / requests - 2.0) < 0.01, "\(result.stdout)")
        let header = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").first
        #expect(header?.hasPrefix("Concurrency,Inferences/Second,Response Throughput,Client Send,") == true)
    }

    @Test("a stream the server closes mid-run ends the run non-zero with the reason, without hanging")
    func streamClosedMidRun() async throws {
        let sim = try SimulatorProcess()
        let run = try BackgroundCommand(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-i", "grpc", "-u", sim.grpcURL, "--streaming", "--concurrency-range", "2", "-p", "5000",
        ])
        // Kill the server once the load is running (the report is flushed line by line).
        let deadline = Date().addingTimeInterval(30)
        while !run.stdout.snapshot().contains("Request concurrency: 2"), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(1))
        kill(sim.process.processIdentifier, SIGKILL)
        #expect(await run.waitForExit(timeout: 30))
        #expect(run.process.terminationStatus != 0)
        let errors = run.stderr.text()
        #expect(errors.contains("error:") && errors.contains("stream"), "\(errors)")
    }

    @Test("compressed requests (gzip, deflate) are served and counted", arguments: ["gzip", "deflate"])
    func compression(algorithm: String) async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "add_sub", "-i", "grpc", "-u", sim.grpcURL, "--request-count", "40", "--grpc-compression-algorithm", algorithm,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let stats = try await sim.statistics(model: "add_sub")
        #expect(stats.inference_stats.success.count.value == 40)
    }
}
}
