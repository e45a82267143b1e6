import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// `--profile-export-file` and `--request-parameter` against Triton, beside perf_analyzer 2.50's own export.
extension EndToEnd {
@Suite("Profile export and request parameters against Triton")
struct TritonProfileExportTests {
    typealias Export = ProfileExportEndToEndTests.Export

    /// The file's shape: every key with the JSON type of its value, arrays by their first element.
    static func shape(_ value: Any, path: String = "") -> Set<String> {
        switch value {
        case let object as [String: Any]:
            var shapes: Set<String> = ["\(path):object"]
            for (key, member) in object { shapes.formUnion(shape(member, path: "\(path).\(key)")) }
            return shapes
        case let array as [Any]:
            return array.first.map { shape($0, path: "\(path)[]") } ?? ["\(path):empty-array"]
        case is String: return ["\(path):string"]
        case is NSNumber:
            // add_sub has no BOOL tensors: every number here is a number.
            return ["\(path):number"]
        default: return ["\(path):null"]
        }
    }

    @Test("HTTP: the export has perf_analyzer's structure for the same flags, and its inputs are what Triton received")
    func parityAndInputs() async throws {
        let triton = try TritonEnvironment.current()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ours = directory.appendingPathComponent("ours.json").path
        let theirs = directory.appendingPathComponent("theirs.json").path
        let arguments = ["-m", "add_sub", "-u", triton.httpURL, "--concurrency-range", "1:2", "-p", "500", "-s", "100"]
        let recordedBefore = triton.recordedCount(model: "add_sub")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, arguments + ["--profile-export-file", ours], timeout: 180)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try triton.recordedRequests(model: "add_sub", from: recordedBefore)
        let reference = try await CommandRunner.run(triton.referencePerfAnalyzer, arguments + ["--profile-export-file", theirs], timeout: 180)
        #expect(reference.status == 0, "perf_analyzer: \(reference.stderr)")

        let ourObject = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ours)))
        let theirObject = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: theirs)))
        // Ours adds each experiment's `client_health` (docs/compatibility.md); the rest is perf_analyzer's shape.
        let ourShape = Self.shape(ourObject)
        let health = ourShape.filter { $0.hasPrefix(".experiments[].client_health") }
        #expect(health.contains(".experiments[].client_health:object"))
        #expect(ourShape.subtracting(health) == Self.shape(theirObject))

        let file = try ProfileExportEndToEndTests.read(ours)
        let referenceFile = try ProfileExportEndToEndTests.read(theirs)
        #expect(file.experiments.map(\.experiment.value) == referenceFile.experiments.map(\.experiment.value))
        let counts = ProfileExportEndToEndTests.reportedCounts(result.stdout)
        #expect(zip(file.experiments, counts).allSatisfy { $0.requestsInLastWindows(3) == $1 })
        // Random data is one data step: every request carried the values Triton recorded.
        let recordedInputs = Set(received.flatMap { $0.inputs.map { "\($0.name)=\($0.data ?? [])" } })
        #expect(recordedInputs.count == 2)
        for request in file.experiments.flatMap(\.requests).prefix(100) {
            let exported = request.request_inputs.map { name, value -> String in
                if case .array(let values) = value { return "\(name)=\(values)" }
                return "\(name)=\([value])"
            }
            #expect(Set(exported) == recordedInputs)
            #expect(request.response_outputs.first.map { Set($0.keys) } == ["OUTPUT0", "OUTPUT1"])
        }
    }

    @Test("--request-parameter: Triton's model receives the parameters, over HTTP and gRPC", arguments: ["http", "grpc"])
    func parameters(wireProtocol: String) async throws {
        let triton = try TritonEnvironment.current()
        let recordedBefore = triton.recordedCount(model: "add_sub")
        let server = wireProtocol == "grpc" ? ["-i", "grpc", "-u", triton.grpcURL] : ["-u", triton.httpURL]
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "add_sub", "--request-count", "10", "--request-parameter", "max_tokens:256:int",
            "--request-parameter", "mode:Fast:string", "--request-parameter", "greedy:false:bool",
        ] + server)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try triton.recordedRequests(model: "add_sub", from: recordedBefore)
        #expect(received.count == 10)
        for request in received {
            let parameters = try #require(request.parameters)
            #expect(parameters["max_tokens"] == .int(256))
            #expect(parameters["mode"] == .string("Fast"))
            #expect(parameters["greedy"] == .bool(false))
        }
    }
}
}
