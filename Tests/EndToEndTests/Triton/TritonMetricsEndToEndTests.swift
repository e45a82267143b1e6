import Foundation
import Testing
@testable import PerfAnalyzerKit

/// `--collect-metrics` against Triton's own metrics endpoint (TRITON_METRICS_URL, from
/// scripts/test.sh). This Triton runs on CPU only: it exports no GPU metrics but does export
/// nv_cpu_utilization and nv_cpu_memory_used_bytes.
extension EndToEnd {
@Suite("Server metrics from Triton")
struct TritonMetricsEndToEndTests {
    @Test("the server's CPU utilization and memory, the GPU sections empty, one warning about the missing GPU metrics",
          arguments: ["http", "grpc"])
    func cpuMetrics(wire: String) async throws {
        let triton = try TritonEnvironment.current()
        let metrics = try TritonEnvironment.metricsURL()
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("triton-metrics-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let server = wire == "grpc" ? ["-i", "grpc", "-u", triton.grpcURL] : ["-u", triton.httpURL]
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "--concurrency-range", "1", "-p", "1000",
                                                                           "-s", "100", "--collect-metrics", "--metrics-url", metrics,
                                                                           "--metrics-interval", "200", "-f", csv, "--verbose-csv"] + server,
                                                 timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.hasPrefix("WARNING: the server's metrics at http://\(metrics)/metrics have no ") }
        #expect(warnings == ["WARNING: the server's metrics at http://\(metrics)/metrics have no nv_gpu_utilization, nv_gpu_power_usage, nv_gpu_memory_used_bytes, nv_gpu_memory_total_bytes; the report leaves them out (a server without GPUs exports no GPU metrics)."],
                "\(result.stderr)")
        let block = try #require(MetricsBlock.all(in: result.stdout).first, "\(result.stdout)")
        #expect(block.titles == ["Avg GPU Utilization", "Avg GPU Power Usage", "Max GPU Memory Usage", "Total GPU Memory"])
        #expect(block.gpu.isEmpty)
        let utilization = try #require(block.cpuUtilizationPercent, "\(result.stdout)")
        #expect((0...100).contains(utilization))
        // Triton reads the machine's memory: more than Triton itself holds, less than the machine has.
        let memory = try #require(block.cpuMemoryBytes, "\(result.stdout)")
        #expect(memory > 50_000_000 && memory < Double(ProcessInfo.processInfo.physicalMemory), "\(memory)")

        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let cells = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        // Four empty GPU cells, the server's CPU utilization (a fraction) and memory, the client's CPU,
        // then the four client-health columns.
        #expect(cells.suffix(11).prefix(4).allSatisfy { $0.isEmpty }, "\(lines[1])")
        let fraction = try #require(Double(cells[cells.count - 7]), "\(lines[1])")
        #expect((0...1).contains(fraction))
        #expect(abs(fraction * 100 - utilization) < 0.001 * max(1, utilization))
        #expect(UInt64(cells[cells.count - 6]) == UInt64(memory))
        #expect(UInt64(cells[cells.count - 5]).map { $0 > 0 } == true, "\(lines[1])")
    }
}
}
