import Foundation
import Testing
@testable import PerfAnalyzerKit

/// `--enable-mpi` under a real `mpirun` (Open MPI), two ranks on loopback, against kserve-sim
/// and Triton. Every figure is compared with what the server itself counted.
extension EndToEnd {
/// Under the serialized end-to-end suite: ranks, mpirun and the server take both cores while
/// these run, which would starve the other suites' servers if they ran beside them.
@Suite("MPI runs under mpirun")
struct MPIEndToEndTests {
    @Test("--enable-mpi outside mpirun: one line naming the flag, non-zero exit, nothing sent")
    func notUnderMPIRun() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["--enable-mpi", "-m", "identity_fp32", "-u", sim.url], timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(result.stderr.contains("--enable-mpi: this process was not started by mpirun"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 0)
    }

    @Test("--mpi-split-load, concurrency 4 over 2 ranks, --request-count 400: rank 0 alone reports 400, the server counted 400")
    func splitConcurrencyCount() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let result = try await MPIRun.run([(2, ["--enable-mpi", "--mpi-split-load", "-m", "identity_fp32", "-u", sim.url,
                                                "--concurrency-range", "4", "--request-count", "400"])])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let root = MPIRun.lines(of: 0, result.stdout)
        #expect(reportedCount("Request count", in: root) == 400, "\(root)")
        #expect(root.contains("Request concurrency: 4"))
        // Rank 1 drove half the load and printed nothing.
        #expect(MPIRun.lines(of: 1, result.stdout).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(result.stdout)")
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 400)
    }

    @Test("--mpi-split-load, request rate 400/s over 2 ranks: merged throughput within 1%, server count equals the reported windows', sends interleaved")
    func splitRate() async throws {
        let server = try RecordingServer.start("sim")
        defer { server.stop() }
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("mpi-rate-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let result = try await MPIRun.run([(2, ["--enable-mpi", "--mpi-split-load", "-m", "identity_fp32"] + server.address +
                                                ["--request-rate-range", "400", "-p", "1500", "-s", "50", "-f", csv])])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let root = MPIRun.lines(of: 0, result.stdout)
        let throughput = root.range(of: "Throughput: ").flatMap { Double(root[$0.upperBound...].prefix { $0.isNumber || $0 == "." }) } ?? 0
        #expect(abs(throughput - 400) / 400 < 0.01, "\(root)")
        // The client's merged count for the reported windows against the server's own count of them.
        let client = reportedCount("Request count", in: root) ?? -1
        let serverCount = root.range(of: "Server: ").flatMap { reportedCount("Inference count", in: String(root[$0.upperBound...])) } ?? -2
        #expect(abs(client - serverCount) <= 4, "client \(client), server \(serverCount)")
        // Only rank 0 wrote the CSV.
        #expect(FileManager.default.fileExists(atPath: csv))
        // Interleaved, not doubled: at 400/s the sends are 2.5 ms apart; two ranks each sending
        // the whole schedule would put half the gaps near 0.
        let times = try server.recorded("identity_fp32").compactMap(\.time_ns).sorted()
        let gaps = zip(times.dropFirst(), times).map { Double($0 - $1) / 1e6 }
        let short = gaps.filter { $0 < 1.0 }.count
        #expect(gaps.count > 1000 && Double(short) / Double(gaps.count) < 0.1, "\(short) of \(gaps.count) gaps under 1 ms")
    }

    typealias Export = EndToEnd.ProfileExportEndToEndTests.Export

    /// Two working directories, one per rank, for a relative export path: what each rank made is seen apart.
    static func rankDirectories() throws -> [String] {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mpi-export-\(UUID().uuidString)")
        let directories = [base.appendingPathComponent("rank0").path, base.appendingPathComponent("rank1").path]
        for directory in directories { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        return directories
    }

    @Test("--mpi-split-load --profile-export-file, concurrency 4 over 2 ranks, --request-count 400: rank 0 alone writes the export, with 400 requests, as many as reported and as kserve-sim counted")
    func splitExportCount() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let directories = try Self.rankDirectories()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directories[0]).deletingLastPathComponent().path) }
        let arguments = ["--enable-mpi", "--mpi-split-load", "-m", "identity_fp32", "-u", sim.url,
                         "--concurrency-range", "4", "--request-count", "400", "--profile-export-file", "export.json"]
        let result = try await MPIRun.run([(1, arguments), (1, arguments)], directories: directories)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(reportedCount("Request count", in: MPIRun.lines(of: 0, result.stdout)) == 400, "\(result.stdout)")
        // Rank 1 ran in its own directory and made no file there.
        #expect(!FileManager.default.fileExists(atPath: directories[1] + "/export.json"))
        let export = try EndToEnd.ProfileExportEndToEndTests.read(directories[0] + "/export.json")
        #expect(export.experiments.count == 1)
        let experiment = try #require(export.experiments.first)
        #expect(experiment.experiment.mode == "concurrency" && experiment.experiment.value == 4)
        // Each rank sent 200: an export of rank 0's requests alone would hold 200.
        #expect(experiment.requests.count == 400)
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 400)
        #expect(experiment.window_boundaries.count == 2 && experiment.window_boundaries == experiment.window_boundaries.sorted())
        // Every request's answer (both ranks' clocks are this host's) came before rank 0's cut,
        // which follows every rank's last answer at the barrier.
        let end = experiment.window_boundaries.last ?? 0
        let late = experiment.requests.filter { ($0.response_timestamps.last ?? .max) > end }
        #expect(late.isEmpty, "\(late.count) requests answered after the window's end \(end)")
    }

    @Test("--mpi-split-load --profile-export-file, request rate 400/s over 2 ranks: the reported windows' requests in the export equal the reported count and the server's; both ranks' sends interleave at 2.5 ms")
    func splitExportRate() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let directories = try Self.rankDirectories()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directories[0]).deletingLastPathComponent().path) }
        let arguments = ["--enable-mpi", "--mpi-split-load", "-m", "identity_fp32", "-u", sim.url,
                         "--request-rate-range", "400", "-p", "1000", "-s", "50", "--profile-export-file", "export.json"]
        let result = try await MPIRun.run([(1, arguments), (1, arguments)], directories: directories)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let root = MPIRun.lines(of: 0, result.stdout)
        #expect(!FileManager.default.fileExists(atPath: directories[1] + "/export.json"))
        let export = try EndToEnd.ProfileExportEndToEndTests.read(directories[0] + "/export.json")
        let experiment = try #require(export.experiments.first)
        #expect(export.experiments.count == 1 && experiment.experiment.mode == "request_rate" && experiment.experiment.value == 400)
        let boundaries = experiment.window_boundaries
        #expect(boundaries.count >= 4 && zip(boundaries.dropFirst(), boundaries).allSatisfy { $0 > $1 }, "\(boundaries)")
        guard boundaries.count >= 4 else { return }
        // The last three windows are the reported ones: the client's merged count, and the server's.
        let client = reportedCount("Request count", in: root) ?? -1
        let serverCount = root.range(of: "Server: ").flatMap { reportedCount("Inference count", in: String(root[$0.upperBound...])) } ?? -2
        let exported = experiment.requestsInLastWindows(3)
        // A request of rank 1 that ended within the barrier's skew of a cut may fall on the other side.
        #expect(abs(exported - client) <= 4, "export \(exported), reported \(client)")
        #expect(abs(exported - serverCount) <= 8, "export \(exported), server \(serverCount)")
        #expect(exported > 1000, "\(exported)")
        // Rank r sends r, r+2, ...: together 2.5 ms apart; one rank's alone would be 5 ms apart.
        let sends = experiment.requests.map(\.timestamp).sorted()
        let gaps = zip(sends.dropFirst(), sends).map { Double($0 - $1) / 1e6 }.sorted()
        let median = gaps.isEmpty ? 0 : gaps[gaps.count / 2]
        #expect(median > 1.5 && median < 3.75, "median gap \(median) ms over \(sends.count) sends")
    }

    @Test("--mpi-split-load, a decoupled model over gRPC streams, --request-count 100 over 2 ranks: the LLM section and the export hold both ranks' requests and responses")
    func splitDecoupledStream() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let directories = try Self.rankDirectories()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directories[0]).deletingLastPathComponent().path) }
        let input = directories[0] + "/input.json"
        try #"{"data": [{"IN": [3]}]}"#.write(toFile: input, atomically: true, encoding: .utf8)
        let arguments = ["--enable-mpi", "--mpi-split-load", "-m", "repeat_decoupled", "-i", "grpc", "--streaming", "-u", sim.grpcURL,
                         "--concurrency-range", "2", "--request-count", "100", "--input-data", input, "--profile-export-file", "export.json"]
        let result = try await MPIRun.run([(1, arguments), (1, arguments)], directories: directories)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let root = MPIRun.lines(of: 0, result.stdout)
        // Rank 1's 50 streams are in rank 0's token metrics: 100 requests, 3 tokens (responses) each.
        #expect(root.contains("Streamed requests: 100 of 100"), "\(root)")
        #expect(root.contains("Output tokens per request: avg 3"), "\(root)")
        let stats = try await sim.statistics(model: "repeat_decoupled")
        #expect(stats.inference_stats.success.count.value == 100)
        #expect(!FileManager.default.fileExists(atPath: directories[1] + "/export.json"))
        let export = try EndToEnd.ProfileExportEndToEndTests.read(directories[0] + "/export.json")
        let requests = export.experiments.flatMap(\.requests)
        #expect(requests.count == 100)
        // Rank 1 rendered its own entries (outputs decoded from its streams' responses) as rank 0 does.
        #expect(requests.allSatisfy { $0.request_inputs["IN"] == .int(3) && $0.response_timestamps.count == 3 })
        #expect(requests.allSatisfy { $0.response_outputs.map { $0["IDX"] } == [.int(0), .int(1), .int(2)] })
    }

    @Test("--mpi-split-load: a rank that cannot reach the server ends the run on every rank before any load, with the reason")
    func unreachableRank() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let common = ["--enable-mpi", "--mpi-split-load", "-m", "identity_fp32", "--concurrency-range", "2", "-p", "500"]
        let result = try await MPIRun.run([(1, common + ["-u", sim.url]), (1, common + ["-u", "127.0.0.1:1"])], timeout: 120)
        #expect(!result.timedOut)
        #expect(result.status != 0)
        let rank1 = MPIRun.lines(of: 1, result.stderr, stream: "stderr")
        #expect(rank1.contains("127.0.0.1:1"), "\(result.stderr)")
        let rank0 = MPIRun.lines(of: 0, result.stderr, stream: "stderr")
        #expect(rank0.contains("another MPI rank could not start its load"), "\(result.stderr)")
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 0)
    }

    @Test("--mpi-split-load: a rank killed mid-run ends the run on every rank; what was measured is reported")
    func killedRank() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let command = try BackgroundCommand(try MPIRun.mpirun(), MPIRun.arguments([(2, ["--enable-mpi", "--mpi-split-load", "-m", "identity_fp32",
                                                                                      "-u", sim.url, "--concurrency-range", "2:200:2", "-p", "300", "-s", "1000"])]))
        // Wait for a reported level, then kill rank 1.
        let deadline = Date().addingTimeInterval(60)
        while !command.stdout.snapshot().contains("Throughput:"), Date() < deadline { try await Task.sleep(nanoseconds: 100_000_000) }
        let rank1 = try #require(Self.rankProcess(1, under: command.process.processIdentifier))
        kill(rank1, SIGKILL)
        let exited = await command.waitForExit(timeout: 60)
        #expect(exited)
        #expect(command.process.terminationStatus != 0)
        let stdout = command.stdout.text()
        #expect(MPIRun.lines(of: 0, stdout).contains("Throughput:"), "\(stdout)")
        let stderr = command.stderr.text()
        #expect(stderr.contains("rank 1") || stderr.contains("exited on signal 9"), "\(stderr)")
    }

    @Test("--enable-mpi, two models in one Triton: the rank stable after 3 windows keeps measuring until the other rank's level ends (6 windows)")
    func twoModelsInTriton() async throws {
        let triton = try TritonEnvironment.current()
        let before = (try await triton.statistics(model: "identity_fp32"), try await triton.statistics(model: "add_sub"))
        let common = ["--enable-mpi", "-v", "-u", triton.httpURL, "--concurrency-range", "1", "-p", "300", "-r", "6"]
        // Rank 0 is stable at its third window (-s 1000); rank 1 never is (-s 0) and ends at -r 6.
        let result = try await MPIRun.run([(1, common + ["-m", "identity_fp32", "-s", "1000"]), (1, common + ["-m", "add_sub", "-s", "0"])])
        #expect(!result.timedOut)
        let rank0 = MPIRun.lines(of: 0, result.stdout)
        let rank1 = MPIRun.lines(of: 1, result.stdout)
        #expect(rank0.contains("Pass [6]") && !rank0.contains("Pass [7]"), "\(rank0)")
        #expect(rank1.contains("Pass [6]"), "\(rank1)")
        #expect(rank0.contains("Throughput:"), "\(rank0)")
        #expect(MPIRun.lines(of: 1, result.stderr, stream: "stderr").contains("Failed to obtain stable measurement"), "\(result.stderr)")
        let after = (try await triton.statistics(model: "identity_fp32"), try await triton.statistics(model: "add_sub"))
        // Both models were loaded at once; Triton counted at least what rank 0 reports for its last three windows.
        let reported = UInt64(reportedCount("Request count", in: rank0) ?? 0)
        #expect(reported > 0 && after.0.success - before.0.success >= reported, "reported \(reported), Triton \(after.0.success - before.0.success)")
        #expect(after.1.success > before.1.success)
    }

    @Test("both modes across network namespaces: ranks in two, the server in a third, mpirun's launcher through ip netns exec; what each reports the server served")
    func acrossNamespaces() async throws {
        let script = BuiltTools.repositoryRoot.appendingPathComponent("scripts/test-mpi-netns.sh").path
        let result = try await CommandRunner.run(script, [BuiltTools.directory.path], timeout: 240,
                                                 environment: ["MPIRUN": try MPIRun.mpirun()])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("[netns] reported 400, served 400"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("[netns] one model per rank: identity_fp32 reported 200, served 200; add_sub reported 300, served 300"),
                "\(result.stdout)\n\(result.stderr)")
    }

    /// The pid of rank `rank` among the descendants of `parent` (OMPI_COMM_WORLD_RANK in its environment).
    static func rankProcess(_ rank: Int, under parent: Int32) -> Int32? {
        var queue = [parent]
        while let pid = queue.popLast() {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) {
                queue.append(child)
                let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(child)/environ"))) ?? Data()
                let entries = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if entries.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return child }
            }
        }
        return nil
    }
}
}
