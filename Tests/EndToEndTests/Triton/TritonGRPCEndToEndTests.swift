import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// `-i grpc` and `--streaming` against the real Triton server: counts from Triton's
/// statistics, tensors from what its models recorded. (The generated-tensor tests of
/// TritonEndToEndTests and the input-data suite run over gRPC too.)
extension EndToEnd {
@Suite("perf-analyzer -i grpc against Triton")
struct TritonGRPCEndToEndTests {
    private func inputFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("grpc-input-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("unary, sync and async: Triton served exactly the requests reported, with the zero data stacked for -b", arguments: [
        [] as [String], ["--async"],
    ])
    func unaryCounts(mode: [String]) async throws {
        let triton = try TritonEnvironment.current()
        let before = try await triton.statistics(model: "identity_fp32")
        let recordedBefore = triton.recordedCount(model: "identity_fp32")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-i", "grpc", "-u", triton.grpcURL, "--concurrency-range", "2", "--request-count", "200",
            "-b", "4", "--input-data", "zero",
        ] + mode)
        #expect(result.status == 0, "\(result.stderr)")
        let after = try await triton.waitForSuccessCount(model: "identity_fp32", atLeast: before.success + 200)
        #expect(after.success - before.success == 200)
        #expect(after.inferences - before.inferences == 800)
        #expect(reportedCount("Request count", in: result.stdout) == 200)
        #expect(result.stdout.contains("    Avg gRPC time: "))
        let received = try triton.recordedRequests(model: "identity_fp32", from: recordedBefore)
        #expect(received.count == 200)
        #expect(received.allSatisfy { $0.inputs.count == 1 && $0.inputs[0].shape == [4, 16]
            && $0.inputs[0].data?.allSatisfy { $0 == .int(0) || $0 == .double(0) } == true })
    }

    @Test("JSON input data with validation_data passes over gRPC; a wrong expectation fails the run naming the output")
    func validation() async throws {
        let good = try inputFile(#"""
            {"data": [{"INPUT0": [1, 2, 3, 4], "INPUT1": [1, 1, 1, 1]}, {"INPUT0": [5, 5, 5, 5], "INPUT1": [2, 3, 4, 5]}],
             "validation_data": [{"OUTPUT0": [2, 3, 4, 5], "OUTPUT1": [0, 1, 2, 3]}, {"OUTPUT0": [7, 8, 9, 10], "OUTPUT1": [3, 2, 1, 0]}]}
            """#)
        let bad = try inputFile(#"""
            {"data": [{"INPUT0": [1, 2, 3, 4], "INPUT1": [1, 1, 1, 1]}],
             "validation_data": [{"OUTPUT0": [2, 3, 9, 5], "OUTPUT1": [0, 1, 2, 3]}]}
            """#)
        defer { try? FileManager.default.removeItem(atPath: good); try? FileManager.default.removeItem(atPath: bad) }
        let triton = try TritonEnvironment.current()
        let passing = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "add_sub", "-i", "grpc", "-u", triton.grpcURL, "--request-count", "20", "--input-data", good, "-b", "2",
        ])
        #expect(passing.status == 0, "\(passing.stderr)")
        let failing = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "add_sub", "-i", "grpc", "-u", triton.grpcURL, "--request-count", "20", "--input-data", bad,
        ])
        #expect(failing.status != 0)
        #expect(failing.stderr.contains("validation failed for output 'OUTPUT0', data step 0, index 2: expected 9, received 4"), "\(failing.stderr)")
    }

    @Test("--streaming with the decoupled model: every response counted, zero-response requests end, Triton saw each request")
    func decoupled() async throws {
        let triton = try TritonEnvironment.current()
        // 0 + 2 + 5 responses for every three requests: 70 responses for 30 requests.
        let input = try inputFile(#"{"data": [{"IN": [0]}, {"IN": [2]}, {"IN": [5]}]}"#)
        defer { try? FileManager.default.removeItem(atPath: input) }
        let before = triton.recordedCount(model: "repeat_decoupled")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "repeat_decoupled", "-i", "grpc", "-u", triton.grpcURL, "--streaming", "--concurrency-range", "1",
            "--request-count", "30", "--input-data", input,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("  Detected decoupled model, using the first response for measuring latency"))
        let received = try triton.recordedRequests(model: "repeat_decoupled", from: before)
        #expect(received.count == 30)
        // Requests on one stream carry increasing ids, as perf_analyzer's do.
        #expect(Set(received.compactMap(\.request_id)).count == 30)
        let requests = try #require(reportedRate("Throughput", in: result.stdout))
        let responses = try #require(reportedRate("Response Throughput", in: result.stdout))
        #expect(abs(responses / requests - 70.0 / 30.0) < 0.01, "\(result.stdout)")
    }

    @Test("--grpc-compression-algorithm gzip and deflate: Triton answers every compressed request", arguments: ["gzip", "deflate"])
    func compression(algorithm: String) async throws {
        let triton = try TritonEnvironment.current()
        let before = try await triton.statistics(model: "identity_fp32")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-i", "grpc", "-u", triton.grpcURL, "--request-count", "50",
            "--grpc-compression-algorithm", algorithm,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let after = try await triton.waitForSuccessCount(model: "identity_fp32", atLeast: before.success + 50)
        #expect(after.success - before.success == 50)
    }
}
}

/// A `Label: 123.4 infer/sec` figure from a report.
func reportedRate(_ label: String, in text: String) -> Double? {
    for line in text.split(separator: "\n") {
        let trimmed = line.drop { $0 == " " }
        guard trimmed.hasPrefix(label + ": ") else { continue }
        return Double(trimmed.dropFirst(label.count + 2).prefix { $0 != " " })
    }
    return nil
}
