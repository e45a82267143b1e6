import Foundation
import Testing
@testable import PerfAnalyzerKit

/// Faulty servers on loopback (kserve-sim's `--fault` modes): every run ends within its
/// deadline with one clear line and a non-zero exit, or counts the bad answers as failed.
extension EndToEnd {
@Suite("Faults: a run never hangs, and a bad answer is never a success")
struct FaultEndToEndTests {
    private static let perf = BuiltTools.perfAnalyzer

    /// The lines of stderr that say something (the report goes to stdout).
    private static func errorLines(_ result: CommandResult) -> [String] {
        result.stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    private static func url(_ sim: SimulatorProcess, _ wire: [String]) -> String {
        wire.contains("grpc") ? sim.grpcURL : sim.url
    }

    static let wires: [[String]] = [["-i", "http"], ["-i", "grpc"], ["-i", "grpc", "--streaming"]]

    @Test("a server that accepts connections and never answers: one line once --connection-timeout is up", arguments: wires)
    func silentServer(wire: [String]) async throws {
        let sim = try SimulatorProcess(arguments: ["--fault", "silent"])
        let started = Date()
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", Self.url(sim, wire), "--connection-timeout", "1500"] + wire,
                                                 timeout: 60)
        let elapsed = Date().timeIntervalSince(started)
        #expect(!result.timedOut)
        #expect(elapsed < 15, "took \(elapsed) s")
        #expect(result.status == ExitStatus.failure.rawValue)
        let lines = Self.errorLines(result)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("did not answer") == true && lines.first?.contains("within 1500 ms (--connection-timeout)") == true,
                "\(lines)")
    }

    @Test("a server that stops answering mid-run: the requests fail with the reason, the run ends", arguments: wires)
    func stallMidRun(wire: [String]) async throws {
        let sim = try SimulatorProcess(arguments: ["--fault", "stall", "--fault-after", "200"])
        let started = Date()
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", Self.url(sim, wire), "-p", "500",
                                                             "--concurrency-range", "2", "--request-timeout", "1000"] + wire, timeout: 60)
        let elapsed = Date().timeIntervalSince(started)
        #expect(!result.timedOut)
        #expect(elapsed < 20, "took \(elapsed) s")
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(result.stderr.contains("the server stopped answering: no answer within 1000 ms (--request-timeout)"), "\(result.stderr)")
        // The server answered exactly the requests before the fault; the rest it received and held.
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 200)
    }

    @Test("SIGTERM while the server holds every request: the run reports and exits within a few seconds")
    func signalWhileStalled() async throws {
        let sim = try SimulatorProcess(arguments: ["--fault", "stall", "--fault-after", "100"])
        // A long --request-timeout: on a loaded machine this task can resume more than a minute
        // after the stall began, and the automatic limit (60 s) must not end the run first.
        let command = try BackgroundCommand(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "-p", "1000", "--concurrency-range", "2",
                                                        "--request-timeout", "600000"])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? await sim.statistics(model: "identity_fp32"))?.inference_stats.success.count.value ?? 0 < 100 {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        try #require(command.process.isRunning, "the run ended before the signal: \(command.stderr.snapshot())")
        let signalled = Date()
        kill(command.process.processIdentifier, SIGTERM)
        let exited = await command.waitForExit(timeout: 15)
        let elapsed = Date().timeIntervalSince(signalled)
        #expect(exited)
        #expect(elapsed < 8, "took \(elapsed) s after SIGTERM")
        #expect(command.process.terminationStatus == ExitStatus.interrupted.rawValue)
        let stderr = command.stderr.text()
        #expect(stderr.contains("2 requests still in flight at the end of the run were abandoned (not counted)."), "\(stderr)")
    }

    @Test("an answer that is not an inference response fails the request with what is wrong", arguments: [
        ("garbage", "its JSON does not start with '{'"),
        ("wrong-shape", "its JSON object has no \"outputs\""),
        ("short-body", "Inference-Header-Content-Length is"),
    ])
    func notAnAnswer(mode: String, problem: String) async throws {
        let sim = try SimulatorProcess(arguments: ["--fault", mode, "--fault-after", "20"])
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "-p", "500"], timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        let lines = Self.errorLines(result)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("the server answered 200 with something that is not an inference response: \(problem)") == true, "\(lines)")
        #expect(!result.stdout.contains("throughput:"), "a level with a bad answer was reported")
    }

    @Test("over gRPC, an answer without outputs fails the request", arguments: [["-i", "grpc"], ["-i", "grpc", "--streaming"],
                                                                         ["-i", "grpc", "--grpc-compression-algorithm", "gzip"]])
    func grpcAnswerWithoutOutputs(wire: [String]) async throws {
        let sim = try SimulatorProcess(arguments: ["--fault", "wrong-shape", "--fault-after", "20"])
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.grpcURL, "-p", "500"] + wire, timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(Self.errorLines(result) == ["error: the server's ModelInferResponse has no outputs"])
    }

    @Test("a slow but complete answer is measured; under a shorter --request-timeout it fails")
    func slowAnswer() async throws {
        let sim = try SimulatorProcess(arguments: ["--fault", "slow-bytes", "--fault-delay-ms", "20"])
        let healthy = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "--request-count", "3"], timeout: 120)
        #expect(healthy.status == ExitStatus.success.rawValue, "\(healthy.stderr)")
        let latency = try #require(reportedMicroseconds("Avg latency", in: healthy.stdout))
        #expect(latency > 200_000, "the slow answers took \(latency) usec")
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 3)
        let cut = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "--request-count", "3", "--request-timeout", "100"],
                                              timeout: 60)
        #expect(cut.status == ExitStatus.failure.rawValue)
        #expect(cut.stderr.contains("no answer within 100 ms (--request-timeout)"), "\(cut.stderr)")
    }

    @Test("a request rate far above what the server takes is sent as fast as it answers, in bounded memory")
    func rateAboveCapacity() async throws {
        let sim = try SimulatorProcess()
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "--request-rate-range", "1e7",
                                                             "--request-count", "3000", "-v"], timeout: 120)
        #expect(result.status == ExitStatus.success.rawValue, "\(result.stderr)")
        #expect(result.stdout.contains("Send lag:"))
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 3000)
    }

    @Test("-f naming a directory or a missing directory is refused before any load", arguments: [
        ("/tmp", "error: -f /tmp: is a directory; name a file"),
        ("/nonexistent-spa/out.csv", "error: -f /nonexistent-spa/out.csv: the directory /nonexistent-spa does not exist"),
    ])
    func csvDestination(path: String, line: String) async throws {
        let sim = try SimulatorProcess()
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "-f", path, "--request-count", "10"], timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(result.stderr == line + "\n")
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 0)
    }
}
}
