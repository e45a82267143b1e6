import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// `--periodic-concurrency-range` against a decoupled model over gRPC streaming: the sets start
/// when the latest one has had its responses, and the export holds every request.
extension EndToEnd {
@Suite("Periodic concurrency")
struct PeriodicConcurrencyEndToEndTests {
    typealias Export = ProfileExportEndToEndTests.Export

    /// Runs 2:6:2 with a period of 2 responses on a model answering 4 times per request.
    private func run(_ tool: String, url: String, extra: [String] = []) async throws -> (CommandResult, Export?) {
        let export = ProfileExportEndToEndTests.temporaryPath("periodic")
        let input = ProfileExportEndToEndTests.temporaryPath("periodic-input")
        try #"{"data":[{"IN":[4]}]}"#.write(toFile: input, atomically: true, encoding: .utf8)
        defer { for path in [export, input] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try await CommandRunner.run(tool, [
            "-m", "repeat_decoupled", "-i", "grpc", "--streaming", "-u", url, "--periodic-concurrency-range", "2:6:2",
            "--request-period", "2", "--input-data", input, "--profile-export-file", export,
        ] + extra, timeout: 120)
        return (result, try? ProfileExportEndToEndTests.read(export))
    }

    /// The export's requests in the order they were sent, checked against the periodic rule.
    private func checkSets(_ file: Export) {
        #expect(file.experiments.count == 1)
        guard let experiment = file.experiments.first else { return }
        #expect(experiment.experiment.mode == "concurrency")
        #expect(experiment.experiment.value == 1)
        #expect(experiment.window_boundaries == [0, UInt64.max])
        let requests = experiment.requests.sorted { $0.timestamp < $1.timestamp }
        #expect(requests.count == 6)
        #expect(requests.allSatisfy { $0.response_timestamps.count == 4 })
        // Set k+1 starts only after every request of set k had its second response.
        for set in 1..<3 {
            let previous = requests[(set - 1) * 2..<set * 2]
            let secondResponses = previous.map { $0.response_timestamps[1] }
            for request in requests[set * 2..<set * 2 + 2] {
                #expect(request.timestamp >= secondResponses.max()!)
            }
        }
    }

    @Test("kserve-sim: three sets of two, each after the last one's second responses; the server served six")
    func simulator() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let (result, written) = try await run(BuiltTools.perfAnalyzer, url: sim.grpcURL)
        #expect(result.status == 0, "\(result.stderr)")
        // Only the settings block: no level, no summary (perf_analyzer prints none either).
        #expect(result.stdout.contains("*** Measurement Settings ***"))
        #expect(!result.stdout.contains("Request concurrency"))
        #expect(!result.stdout.contains("Inferences/Second"))
        let file = try #require(written)
        checkSets(file)
        #expect(try await sim.statistics(model: "repeat_decoupled").inference_stats.success.count.value == 6)
    }

    @Test("Triton: the same schedule, and perf_analyzer's export of it has the same structure")
    func triton() async throws {
        let triton = try TritonEnvironment.current()
        let before = try await triton.statistics(model: "repeat_decoupled")
        let (result, file) = try await run(BuiltTools.perfAnalyzer, url: triton.grpcURL)
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try #require(file)
        checkSets(ours)
        let after = try await triton.waitForSuccessCount(model: "repeat_decoupled", atLeast: before.success + 6)
        #expect(after.success - before.success == 6)
        var (reference, theirs) = try await run(triton.referencePerfAnalyzer, url: triton.grpcURL)
        // perf_analyzer 2.50 at times aborts on a request that had all its responses
        // (docs/compatibility.md): its own race, not this run's, so it gets two more tries.
        for _ in 0..<2 where reference.status != 0 && reference.stderr.contains("before request period was reached") {
            (reference, theirs) = try await run(triton.referencePerfAnalyzer, url: triton.grpcURL)
        }
        #expect(reference.status == 0, "perf_analyzer: \(reference.stderr)")
        let referenceFile = try #require(theirs)
        #expect(referenceFile.experiments.map(\.experiment.mode) == ours.experiments.map(\.experiment.mode))
        #expect(referenceFile.experiments.first?.window_boundaries == ours.experiments.first?.window_boundaries)
        #expect(referenceFile.experiments.first?.requests.count == 6)
    }

    @Test("refused with one line: without --streaming, without an export file, beside another load mode")
    func refusals() async throws {
        for (arguments, expected) in [
            (["-i", "grpc", "--profile-export-file", "/tmp/never-\(UUID().uuidString).json"],
             "--periodic-concurrency-range: each request needs a stream of its own; add -i grpc --streaming"),
            (["-i", "grpc", "--streaming"],
             "--periodic-concurrency-range records its run only in the profile export; add --profile-export-file FILE"),
            (["-i", "grpc", "--streaming", "--concurrency-range", "2", "--profile-export-file", "/tmp/never-\(UUID().uuidString).json"],
             "--periodic-concurrency-range is a load mode of its own; it cannot be combined with --concurrency-range, --request-rate-range or --request-intervals"),
        ] {
            let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "repeat_decoupled", "--periodic-concurrency-range", "2:6:2"] + arguments)
            #expect(result.status == 99)
            #expect(result.stderr == "error: \(expected)\n")
        }
    }
}
}
