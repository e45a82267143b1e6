import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// The built `perf-analyzer` against a real `kserve-sim` process on loopback. Each test
/// checks what the server itself counted, not only what the client says it sent.
extension EndToEnd {
@Suite("perf-analyzer against kserve-sim")
struct SimulatorEndToEndTests {
    @Test("the issue's command: a sweep of 1:4 with a CSV whose header is perf_analyzer's")
    func sweepWithCSV() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "1:4", "-f", csv,
            "-p", "400", "-s", "100",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        for level in 1...4 { #expect(result.stdout.contains("Request concurrency: \(level)\n")) }
        #expect(result.stdout.contains("*** Measurement Settings ***"))
        #expect(result.stdout.contains("  Client: \n"))
        #expect(result.stdout.contains("  Server: \n"))
        #expect(result.stdout.contains("Inferences/Second vs. Client Average Batch Latency"))
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.first == "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency")
        #expect(Set(lines.dropFirst().compactMap { $0.split(separator: ",").first.map(String.init) }) == ["1", "2", "3", "4"])
        let throughputs = lines.dropFirst().compactMap { Double($0.split(separator: ",")[1]) }
        #expect(throughputs == throughputs.sorted())
    }

    @Test("--request-count: the server counts exactly the requests and inferences the client reports")
    func exactCounts() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let before = try await sim.statistics(model: "identity_fp32")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "4", "--request-count", "500", "-b", "4",
            "--warmup-request-count", "40",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let after = try await sim.statistics(model: "identity_fp32")
        let served = after.inference_stats.success.count.value - before.inference_stats.success.count.value
        #expect(served == 540)
        #expect(after.inference_count.value - before.inference_count.value == 540 * 4)
        #expect(reportedCount("Request count", in: result.stdout) == 500)
        // The Server section covers the measured window only: warm-up requests are not in it.
        #expect(reportedCount("Successful request count", in: result.stdout) == 500)
        #expect(reportedCount("Inference count", in: result.stdout) == 2000)
        #expect(result.stdout.contains("Throughput: "))
    }

    @Test("latency includes the server's compute time (--delay-us)")
    func latencyCoversDelay() async throws {
        let sim = try SimulatorProcess(arguments: ["--delay-us", "3000"])
        defer { sim.stop() }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "2", "--request-count", "100",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let average = try #require(reportedMicroseconds("Avg latency", in: result.stdout))
        let p50 = try #require(reportedMicroseconds("p50 latency", in: result.stdout))
        #expect(average >= 3000)
        #expect(p50 >= 3000)
        let computeInfer = try #require(reportedMicroseconds("compute infer", in: result.stdout.replacingOccurrences(of: "+ compute infer ", with: "compute infer: ")))
        #expect(computeInfer >= 3000)
    }

    @Test("JSON tensors both ways, and every simulated model shape", arguments: [
        ["-m", "identity_fp32", "--input-tensor-format", "json", "--output-tensor-format", "json"],
        ["-m", "identity_int32_dynamic", "--shape", "INPUT0:2,3"],
        ["-m", "identity_bytes", "--shape", "INPUT0:4", "--string-length", "16"],
        ["-m", "add_sub", "-b", "8"],
        ["-m", "ensemble_fp32", "-b", "2"],
    ])
    func models(arguments: [String]) async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let model = arguments[1]
        let before = try await sim.statistics(model: model)
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, arguments + ["-u", sim.url, "--request-count", "60"])
        #expect(result.status == 0, "\(result.stderr)")
        let after = try await sim.statistics(model: model)
        #expect(after.inference_stats.success.count.value - before.inference_stats.success.count.value == 60)
        #expect(after.inference_stats.fail.count.value == before.inference_stats.fail.count.value)
        if model == "ensemble_fp32" {
            #expect(result.stdout.contains("  Composing models: \n"))
            #expect(result.stdout.contains("  identity_fp32, version: 1\n"))
            #expect(result.stdout.contains("  double_fp32, version: 1\n"))
            let composing = try await sim.statistics(model: "double_fp32")
            #expect(composing.inference_stats.success.count.value == 60)
        }
    }

    @Test("bad input is refused with one line before any request", arguments: [
        (["-m", "identity_fp32", "--concurrency-range", "4:1"], "--concurrency-range 4:1"),
        (["-m", "identity_fp32", "--no-such-flag"], "--no-such-flag"),
        (["-m", "identity_fp32", "-b", "9"], "-b 9"),
        (["-m", "identity_int32_dynamic", "-b", "2"], "-b 2"),
        (["-m", "identity_int32_dynamic"], "INPUT0"),
        (["-m", "no_such_model"], "no_such_model"),
        (["-m", "identity_fp32", "--shared-memory", "gpu"], "'gpu' is invalid for '--shared-memory <kind>'"),
        (["-m", "identity_fp32", "--shared-memory", "system", "--output-shared-memory-size", "0"], "--output-shared-memory-size 0"),
        (["-m", "identity_fp32", "--request-rate-range", "100:50"], "--request-rate-range 100:50"),
        (["-m", "sequence_accumulator", "--concurrency-range", "3", "--sequence-id-range", "1:3"], "--sequence-id-range 1:3"),
        (["-m", "identity_fp32", "-x", "7"], "7"),
        (["-m", "identity_fp32", "-f", "/no/such/dir/out.csv"], "-f /no/such/dir/out.csv"),
    ])
    func refusals(arguments: [String], fragment: String) async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, arguments + ["-u", sim.url], timeout: 30)
        #expect(result.status != 0)
        #expect(!result.timedOut)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
        #expect(!result.stdout.contains("Request concurrency"))
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 0)
        #expect(stats.inference_stats.fail.count.value == 0)
    }

    @Test("an unreachable server: one line, non-zero exit, no hang")
    func unreachable() async throws {
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", "127.0.0.1:1"], timeout: 30)
        #expect(!result.timedOut)
        #expect(result.status != 0)
        #expect(result.stderr.contains("failed to connect to 127.0.0.1:1"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("the server going away mid-run ends the run non-zero with the reason")
    func serverDiesMidRun() async throws {
        let sim = try SimulatorProcess()
        let run = try BackgroundCommand(BuiltTools.perfAnalyzer,
                                        ["-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "2", "-p", "5000"])
        try await Task.sleep(for: .milliseconds(1500))
        kill(sim.process.processIdentifier, SIGKILL)
        #expect(await run.waitForExit(timeout: 30))
        #expect(run.process.terminationStatus != 0)
        #expect(run.stderr.text().contains("error:"))
    }

    @Test("Ctrl-C stops the run cleanly and still prints what was measured")
    func interrupt() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let run = try BackgroundCommand(BuiltTools.perfAnalyzer,
                                        ["-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "1:64", "-p", "300", "-s", "100"])
        try await Task.sleep(for: .seconds(4))
        run.process.interrupt()
        #expect(await run.waitForExit(timeout: 30))
        #expect(run.process.terminationStatus == 130)
        let text = run.stdout.text()
        #expect(text.contains("Inferences/Second vs. Client Average Batch Latency"))
        #expect(text.contains("Concurrency: 1, throughput:"))
    }

    @Test("--version of both tools prints the release version; --help exits 0")
    func versionAndHelp() async throws {
        let version = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("perf-analyzer \(ReleaseVersion.current) "))
        let simulatorVersion = try await CommandRunner.run(BuiltTools.kserveSim, ["--version"])
        #expect(simulatorVersion.status == 0)
        #expect(simulatorVersion.stdout == "kserve-sim \(ReleaseVersion.current) (swift-perf-analyzer)\n")
        let help = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["--help"])
        #expect(help.status == 0)
        for section in ["MEASUREMENT PARAMETERS:", "INPUT DATA OPTIONS:", "SERVER DETAILS:", "OTHER OPTIONS:", "--concurrency-range"] {
            #expect(help.stdout.contains(section))
        }
    }
}
}
