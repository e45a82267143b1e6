import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private func ints(_ values: [Int]) -> [JSONValue] { values.map { .int(Int64($0)) } }

extension EndToEnd {
@Suite("Input data reaches the server exactly as the file describes it")
struct InputDataEndToEndTests {
    static let servers = ["sim", "triton", "sim-grpc", "triton-grpc"]

    /// Runs perf-analyzer and returns the requests `model` received during the run.
    private func run(_ server: RecordingServer, model: String, _ arguments: [String]) async throws -> (CommandResult, [TritonEnvironment.RecordedRequest]) {
        let before = try server.recordedCount(model)
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", model] + server.address + arguments)
        return (result, try server.recorded(model, from: before))
    }

    @Test("steps round-robin, in order; -b stacks consecutive steps", arguments: servers)
    func roundRobin(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let file = try temporaryFile("""
            {"data": [
              {"INPUT0": [1, 2, 3, 4], "INPUT1": [10, 20, 30, 40]},
              {"INPUT0": [5, 6, 7, 8], "INPUT1": {"b64": "AQAAAAIAAAADAAAABAAAAA=="}},
              {"INPUT0": {"content": [9, 10, 11, 12], "shape": [4]}, "INPUT1": [0, 0, 0, -1]}
            ]}
            """)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let input0 = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
        let input1 = [[10, 20, 30, 40], [1, 2, 3, 4], [0, 0, 0, -1]]

        let (single, received) = try await run(server, model: "add_sub", ["--input-data", file, "--request-count", "6", "--sync",
                                                                           "-H", "X-Trace-Token:abc 123"])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(received.count == 6)
        for (index, request) in received.enumerated() {
            #expect(request.inputs.first { $0.name == "INPUT0" }?.data == ints(input0[index % 3]))
            #expect(request.inputs.first { $0.name == "INPUT1" }?.data == ints(input1[index % 3]))
            #expect(request.inputs.first { $0.name == "INPUT0" }?.shape == [1, 4])
            if kind == "sim" { #expect(request.headers?["x-trace-token"] == "abc 123") }
        }

        let (batched, stacked) = try await run(server, model: "add_sub", ["--input-data", file, "--request-count", "3", "-b", "2"])
        #expect(batched.status == 0, "\(batched.stderr)")
        #expect(stacked.count == 3)
        // Requests start at steps 0, 2, 1 (step 0 + 2 per request, wrapping), each with two consecutive steps.
        let expectedStarts = [0, 2, 1]
        for (index, request) in stacked.enumerated() {
            let first = expectedStarts[index]
            let second = (first + 1) % 3
            #expect(request.inputs.first { $0.name == "INPUT0" }?.shape == [2, 4])
            #expect(request.inputs.first { $0.name == "INPUT0" }?.data == ints(input0[first] + input0[second]))
        }
    }

    @Test("the guide's variable-shape example: each step's shape reaches the server", arguments: servers)
    func stepShapes(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let ones = Array(repeating: "1", count: 16).joined(separator: ", ")
        let file = try temporaryFile("""
            {"data": [
              {"INPUT0": {"content": [\(ones)], "shape": [2,8]}},
              {"INPUT0": {"content": [\(ones)], "shape": [8,2]}},
              {"INPUT0": {"content": [\(ones)]}},
              {"INPUT0": {"content": [\(ones)], "shape": [4,4]}}
            ]}
            """)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (result, received) = try await run(server, model: "identity_int32_dynamic",
                                               ["--input-data", file, "--shape", "INPUT0:1,16", "--request-count", "4", "--sync"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(received.map { $0.inputs[0].shape } == [[2, 8], [8, 2], [1, 16], [4, 4]])
        #expect(received.allSatisfy { $0.inputs[0].data == ints(Array(repeating: 1, count: 16)) })
    }

    @Test("strings, several files appended, and validation that passes and fails", arguments: servers)
    func stringsFilesValidation(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let first = try temporaryFile(#"{"data": [{"INPUT0": ["alpha", "beta"]}], "validation_data": [{"OUTPUT0": ["alpha", "beta"]}]}"#)
        let second = try temporaryFile(#"{"data": [[{"INPUT0": ["gamma", "δέλτα"]}]], "validation_data": [[{"OUTPUT0": ["gamma", "δέλτα"]}]]}"#)
        let wrong = try temporaryFile(#"{"data": [{"INPUT0": ["x", "y"]}], "validation_data": [{"OUTPUT0": ["x", "z"]}]}"#)
        defer { for path in [first, second, wrong] { try? FileManager.default.removeItem(atPath: path) } }
        let (result, received) = try await run(server, model: "identity_bytes",
                                               ["--input-data", first, "--input-data", second, "--shape", "INPUT0:2", "--request-count", "4", "--sync"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(received.map { $0.inputs[0].data } == [
            [.string("alpha"), .string("beta")], [.string("gamma"), .string("δέλτα")],
            [.string("alpha"), .string("beta")], [.string("gamma"), .string("δέλτα")],
        ])
        for format in ["binary", "json"] {
            let (failed, _) = try await run(server, model: "identity_bytes",
                                            ["--input-data", wrong, "--shape", "INPUT0:2", "--request-count", "4", "--output-tensor-format", format])
            #expect(failed.status != 0)
            #expect(failed.stderr.contains("validation failed for output 'OUTPUT0', data step 0, index 1: expected \"z\", received \"y\""), "\(failed.stderr)")
        }
    }

    @Test("a directory of raw files, with outputs as validation data", arguments: servers)
    func directory(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ values: [Int32]) throws {
            var bytes: [UInt8] = []
            for value in values { appendLittleEndian(value, to: &bytes) }
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        try write("INPUT0", [7, 8, 9, 10])
        try write("INPUT1", [1, 1, 1, 1])
        try write("OUTPUT0", [8, 9, 10, 11])
        try write("OUTPUT1", [6, 7, 8, 9])
        let (result, received) = try await run(server, model: "add_sub", ["--input-data", directory.path, "--request-count", "5", "-b", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(received.count == 5)
        #expect(received.allSatisfy { $0.inputs.first { $0.name == "INPUT0" }?.data == ints([7, 8, 9, 10, 7, 8, 9, 10]) })

        try write("OUTPUT1", [6, 7, 0, 9])
        let (failed, _) = try await run(server, model: "add_sub", ["--input-data", directory.path, "--request-count", "5", "-b", "2"])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("validation failed for output 'OUTPUT1', data step 0, index 2: expected 0, received 8"), "\(failed.stderr)")
    }

    @Test("bad input data: one line and nothing sent", arguments: servers)
    func badInput(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let file = try temporaryFile(#"{"data": [{"INPUT0": [1, 2, 3, 4], "INPUT1": [1, 2, 3, 4]}, {"INPUT0": [1, 2, 3], "INPUT1": [1, 2, 3, 4]}]}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (result, received) = try await run(server, model: "add_sub", ["--input-data", file])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(file))
        #expect(result.stderr.contains("data[1].INPUT0"), "\(result.stderr)")
        #expect(received.isEmpty)
        let missing = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "add_sub"] + server.address + ["--input-data", "/no/such/file.json"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--input-data /no/such/file.json"))
    }
}
}
