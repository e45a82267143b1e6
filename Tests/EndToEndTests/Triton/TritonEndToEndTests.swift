import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// The built `perf-analyzer` against a real Triton server (started by scripts/test.sh).
/// Each test compares with what Triton itself counted and what its models recorded.
extension EndToEnd {
@Suite("perf-analyzer against Triton")
struct TritonEndToEndTests {
    /// The data step perf-analyzer generates for a model's inputs (fixed seed, so reproducible).
    private func generatedStep(_ inputs: [ModelDescription.Tensor], shapes: [String: [Int64]] = [:],
                               source: InputDataSource = .random, stringLength: Int = 128) throws -> DataStep {
        let model = ModelDescription(name: "m", version: "", platform: "", maxBatchSize: 0, inputs: inputs, outputs: [])
        return try GeneratedInputData.makeStep(model: model, source: source, shapes: shapes, stringLength: stringLength)
    }

    @Test("request counts: Triton served exactly the requests and inferences reported")
    func counts() async throws {
        let triton = try TritonEnvironment.current()
        let before = try await triton.statistics(model: "identity_fp32")
        let recordedBefore = triton.recordedCount(model: "identity_fp32")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", triton.httpURL, "--concurrency-range", "2", "--request-count", "300",
            "-b", "4", "--input-data", "zero",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let after = try await triton.waitForSuccessCount(model: "identity_fp32", atLeast: before.success + 300)
        #expect(after.success - before.success == 300)
        #expect(after.inferences - before.inferences == 1200)
        #expect(reportedCount("Request count", in: result.stdout) == 300)
        #expect(reportedCount("Successful request count", in: result.stdout) == 300)
        let received = try triton.recordedRequests(model: "identity_fp32", from: recordedBefore)
        #expect(received.count == 300)
        for request in received {
            #expect(request.inputs.map(\.name) == ["INPUT0"])
            #expect(request.inputs[0].shape == [4, 16])
            #expect(request.inputs[0].data?.allSatisfy { $0 == .int(0) || $0 == .double(0) } == true)
        }
    }

    /// `-u` for HTTP, `-i grpc -u` for gRPC.
    private func server(_ triton: TritonEnvironment, _ wireProtocol: String) -> [String] {
        wireProtocol == "grpc" ? ["-i", "grpc", "-u", triton.grpcURL] : ["-u", triton.httpURL]
    }

    @Test("the tensors Triton received are the generated data, stacked for the batch (HTTP binary and JSON, gRPC raw contents)",
          arguments: ["binary", "json", "grpc"])
    func receivedTensors(format: String) async throws {
        let triton = try TritonEnvironment.current()
        let recordedBefore = triton.recordedCount(model: "add_sub")
        let tensorFormat = format == "grpc" ? [] : ["--input-tensor-format", format, "--output-tensor-format", format]
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "add_sub", "--request-count", "20", "-b", "3",
        ] + server(triton, format) + tensorFormat)
        #expect(result.status == 0, "\(result.stderr)")
        let step = try generatedStep([.init(name: "INPUT0", datatype: .int32, shape: [4]), .init(name: "INPUT1", datatype: .int32, shape: [4])])
        let expected = try step.tensors.map { try TensorCodec.json(fromBinary: $0.bytes, datatype: .int32) }
        let received = try triton.recordedRequests(model: "add_sub", from: recordedBefore)
        #expect(received.count == 20)
        for request in received {
            #expect(request.inputs.map(\.name) == ["INPUT0", "INPUT1"])
            for (index, input) in request.inputs.enumerated() {
                #expect(input.shape == [3, 4])
                #expect(input.data == expected[index] + expected[index] + expected[index])
            }
        }
    }

    @Test("variable-sized inputs take --shape; strings have --string-length", arguments: ["http", "grpc"])
    func shapesAndStrings(wireProtocol: String) async throws {
        let triton = try TritonEnvironment.current()
        let dynamicBefore = triton.recordedCount(model: "identity_int32_dynamic")
        let dynamic = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_int32_dynamic", "--request-count", "10", "--shape", "INPUT0:2,3",
        ] + server(triton, wireProtocol))
        #expect(dynamic.status == 0, "\(dynamic.stderr)")
        let dynamicStep = try generatedStep([.init(name: "INPUT0", datatype: .int32, shape: [-1, -1])], shapes: ["INPUT0": [2, 3]])
        let dynamicExpected = try TensorCodec.json(fromBinary: dynamicStep.tensors[0].bytes, datatype: .int32)
        let dynamicReceived = try triton.recordedRequests(model: "identity_int32_dynamic", from: dynamicBefore)
        #expect(dynamicReceived.count == 10)
        #expect(dynamicReceived.allSatisfy { $0.inputs[0].shape == [2, 3] && $0.inputs[0].data == dynamicExpected })

        let bytesBefore = triton.recordedCount(model: "identity_bytes")
        let strings = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_bytes", "--request-count", "10", "--shape", "INPUT0:3", "--string-length", "8",
        ] + server(triton, wireProtocol))
        #expect(strings.status == 0, "\(strings.stderr)")
        let stringStep = try generatedStep([.init(name: "INPUT0", datatype: .bytes, shape: [-1])], shapes: ["INPUT0": [3]], stringLength: 8)
        let stringExpected = try TensorCodec.json(fromBinary: stringStep.tensors[0].bytes, datatype: .bytes)
        let stringReceived = try triton.recordedRequests(model: "identity_bytes", from: bytesBefore)
        #expect(stringReceived.count == 10)
        #expect(stringReceived.allSatisfy { $0.inputs[0].shape == [3] && $0.inputs[0].data == stringExpected })
    }

    @Test("an ensemble reports its composing models, which Triton counted")
    func ensemble() async throws {
        let triton = try TritonEnvironment.current()
        let addSubBefore = try await triton.statistics(model: "add_sub")
        let identityBefore = try await triton.statistics(model: "identity_int32")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "ensemble_add_sub_identity", "-u", triton.httpURL, "--request-count", "50",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("  Composing models: \n  add_sub, version: 1\n"))
        #expect(result.stdout.contains("  identity_int32, version: 1\n"))
        let addSub = try await triton.waitForSuccessCount(model: "add_sub", atLeast: addSubBefore.success + 50)
        let identity = try await triton.waitForSuccessCount(model: "identity_int32", atLeast: identityBefore.success + 50)
        #expect(addSub.success - addSubBefore.success == 50)
        #expect(identity.success - identityBefore.success == 50)
    }

    @Test("a sweep with -f: perf_analyzer's CSV header and one row per level")
    func sweep() async throws {
        let triton = try TritonEnvironment.current()
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("triton-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", triton.httpURL, "--concurrency-range", "1:3", "-p", "500", "-s", "100", "-f", csv,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency")
        #expect(Set(lines.dropFirst().map { $0.split(separator: ",")[0] }) == ["1", "2", "3"])
    }

    @Test("refusals before any load: Triton's words for an unknown model, -b over max_batch_size", arguments: [
        (["-m", "no_such_model"], "Request for unknown model: 'no_such_model' is not found"),
        (["-m", "identity_fp32", "-b", "9"], "-b 9"),
        (["-m", "repeat_decoupled"], "decoupled"),
    ])
    func refusals(arguments: [String], fragment: String) async throws {
        let triton = try TritonEnvironment.current()
        let before = try await triton.statistics(model: "identity_fp32")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, arguments + ["-u", triton.httpURL], timeout: 60)
        #expect(result.status != 0)
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        let after = try await triton.statistics(model: "identity_fp32")
        #expect(after.success == before.success)
    }
}
}
