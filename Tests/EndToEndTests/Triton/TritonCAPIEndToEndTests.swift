import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// `--service-kind triton_c_api`: the built `perf-analyzer` runs Triton inside itself, from the
/// server directory scripts/install-triton.sh lays out (TRITON_SERVER_DIRECTORY, exported by
/// scripts/test.sh), on a model repository of its own per test. The models' python stubs inherit
/// perf-analyzer's environment, so RECORD_DIR makes them write down every request they received.
extension EndToEnd {
@Suite("perf-analyzer with Triton in process (C API)")
struct TritonCAPIEndToEndTests {
    /// A repository holding copies of `models` (beside the TritonSupport code they import) and
    /// an empty record folder.
    struct Workspace {
        let root: URL
        var repository: String { root.appendingPathComponent("TritonModels").path }
        var records: URL { root.appendingPathComponent("record") }

        init(models: [String]) throws {
            let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            root = FileManager.default.temporaryDirectory.appendingPathComponent("capi-\(UUID().uuidString)")
            let files = FileManager.default
            try files.createDirectory(at: root.appendingPathComponent("TritonModels"), withIntermediateDirectories: true)
            try files.createDirectory(at: records, withIntermediateDirectories: true)
            try files.createSymbolicLink(at: root.appendingPathComponent("TritonSupport"),
                                         withDestinationURL: tests.appendingPathComponent("TritonSupport"))
            for model in models {
                try files.copyItem(at: tests.appendingPathComponent("TritonModels/\(model)"),
                                   to: root.appendingPathComponent("TritonModels/\(model)"))
            }
        }

        func remove() { try? FileManager.default.removeItem(at: root) }

        func recorded(_ model: String) throws -> [TritonEnvironment.RecordedRequest] {
            try TritonEnvironment.recordedRequests(in: records.appendingPathComponent("\(model).jsonl"))
        }
    }

    static func serverDirectory() throws -> String {
        guard let value = ProcessInfo.processInfo.environment["TRITON_SERVER_DIRECTORY"], !value.isEmpty else {
            throw TritonEnvironment.Missing(variable: "TRITON_SERVER_DIRECTORY")
        }
        return value
    }

    /// perf-analyzer on `model` in process, with the workspace's repository and record folder.
    private func run(_ workspace: Workspace, model: String, _ arguments: [String]) async throws -> CommandResult {
        try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", model, "--service-kind", "triton_c_api", "--triton-server-directory", try Self.serverDirectory(),
            "--model-repository", workspace.repository,
        ] + arguments, timeout: 180, environment: ["RECORD_DIR": workspace.records.path])
    }

    @Test("concurrency: the in-process server received exactly the requests reported, with the generated tensors")
    func concurrency() async throws {
        let workspace = try Workspace(models: ["identity_fp32"])
        defer { workspace.remove() }
        let result = try await run(workspace, model: "identity_fp32",
                                   ["--concurrency-range", "2", "--request-count", "200", "-b", "4", "--input-data", "zero"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("  Service Kind: TRITON_C_API"))
        #expect(reportedCount("Request count", in: result.stdout) == 200)
        // The server section comes from the in-process server's own statistics.
        #expect(reportedCount("Successful request count", in: result.stdout) == 200)
        #expect(reportedCount("Inference count", in: result.stdout) == 800)
        let received = try workspace.recorded("identity_fp32")
        #expect(received.count == 200)
        for request in received {
            #expect(request.inputs.map(\.name) == ["INPUT0"])
            #expect(request.inputs[0].shape == [4, 16])
            #expect(request.inputs[0].data?.allSatisfy { $0 == .int(0) || $0 == .double(0) } == true)
        }
    }

    @Test("request rate: every scheduled request reached the server, paced over time")
    func requestRate() async throws {
        let workspace = try Workspace(models: ["identity_fp32"])
        defer { workspace.remove() }
        let started = Date()
        let result = try await run(workspace, model: "identity_fp32", ["--request-rate-range", "400", "--request-count", "300"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Request Rate: 400 inference requests per seconds"))
        #expect(reportedCount("Request count", in: result.stdout) == 300)
        #expect(reportedCount("Successful request count", in: result.stdout) == 300)
        #expect(try workspace.recorded("identity_fp32").count == 300)
        // 300 sends at 400 per second take 0.75 s, whatever the server's start took on top.
        #expect(Date().timeIntervalSince(started) > 0.75)

        // Custom intervals drive the same slots.
        let intervals = workspace.root.appendingPathComponent("intervals.txt")
        try "2000\n1000\n".write(to: intervals, atomically: true, encoding: .utf8)
        let scheduled = try await run(workspace, model: "identity_fp32", ["--request-intervals", intervals.path, "--request-count", "100"])
        #expect(scheduled.status == 0, "\(scheduled.stderr)")
        #expect(reportedCount("Request count", in: scheduled.stdout) == 100)
        #expect(try workspace.recorded("identity_fp32").count == 400)
    }

    @Test("--input-data: each request carries the file's steps in turn")
    func inputDataFile() async throws {
        let workspace = try Workspace(models: ["add_sub"])
        defer { workspace.remove() }
        let file = workspace.root.appendingPathComponent("data.json")
        try """
            {"data": [{"INPUT0": [1, 2, 3, 4], "INPUT1": [5, 6, 7, 8]},
                      {"INPUT0": [10, 20, 30, 40], "INPUT1": [50, 60, 70, 80]},
                      {"INPUT0": [-1, -2, -3, -4], "INPUT1": [0, 0, 0, 0]}]}
            """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await run(workspace, model: "add_sub", ["--input-data", file.path, "--request-count", "30"])
        #expect(result.status == 0, "\(result.stderr)")
        let received = try workspace.recorded("add_sub")
        #expect(received.count == 30)
        let steps: [[Int64]] = [[1, 2, 3, 4], [10, 20, 30, 40], [-1, -2, -3, -4]]
        let seen = received.map { request in request.inputs.first { $0.name == "INPUT0" }?.data?.compactMap(\.int64Value) ?? [] }
        #expect(Set(seen) == Set(steps))
        for (index, values) in seen.enumerated() {
            // One slot walks the steps round-robin.
            #expect(values == steps[index % 3], "request \(index)")
        }
        #expect(received.allSatisfy { $0.inputs.allSatisfy { $0.shape == [1, 4] } })
    }

    @Test("validation_data: matching outputs pass, batched too; a wrong expectation fails the run naming the output")
    func validation() async throws {
        let workspace = try Workspace(models: ["add_sub"])
        defer { workspace.remove() }
        let good = workspace.root.appendingPathComponent("good.json")
        try """
            {"data": [{"INPUT0": [1, 2, 3, 4], "INPUT1": [1, 1, 1, 1]}, {"INPUT0": [5, 5, 5, 5], "INPUT1": [2, 3, 4, 5]}],
             "validation_data": [{"OUTPUT0": [2, 3, 4, 5], "OUTPUT1": [0, 1, 2, 3]}, {"OUTPUT0": [7, 8, 9, 10], "OUTPUT1": [3, 2, 1, 0]}]}
            """.write(to: good, atomically: true, encoding: .utf8)
        let passing = try await run(workspace, model: "add_sub", ["--input-data", good.path, "--request-count", "20", "-b", "2"])
        #expect(passing.status == 0, "\(passing.stderr)")
        #expect(reportedCount("Request count", in: passing.stdout) == 20)
        let unbatched = try await run(workspace, model: "add_sub", ["--input-data", good.path, "--request-count", "20", "--concurrency-range", "2"])
        #expect(unbatched.status == 0, "\(unbatched.stderr)")

        let bad = workspace.root.appendingPathComponent("bad.json")
        try """
            {"data": [{"INPUT0": [1, 2, 3, 4], "INPUT1": [1, 1, 1, 1]}],
             "validation_data": [{"OUTPUT0": [2, 3, 4, 5], "OUTPUT1": [0, 1, 9, 3]}]}
            """.write(to: bad, atomically: true, encoding: .utf8)
        let failing = try await run(workspace, model: "add_sub", ["--input-data", bad.path, "--request-count", "20"])
        #expect(failing.status != 0)
        #expect(failing.stderr.contains("validation failed for output 'OUTPUT1', data step 0, index 2: expected 9, received 2"), "\(failing.stderr)")
        #expect(failing.stderr.split(separator: "\n").filter { $0.contains("validation failed") }.count == 1, "\(failing.stderr)")
    }

    @Test("--request-parameter: every request reaches the model with each parameter, typed")
    func requestParameters() async throws {
        let workspace = try Workspace(models: ["add_sub"])
        defer { workspace.remove() }
        let result = try await run(workspace, model: "add_sub", [
            "--concurrency-range", "2", "--request-count", "20", "--request-parameter", "max_tokens:256:int",
            "--request-parameter", "mode:Slow:string", "--request-parameter", "mode:Fast:string", "--request-parameter", "greedy:false:bool",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(reportedCount("Request count", in: result.stdout) == 20)
        let received = try workspace.recorded("add_sub")
        #expect(received.count == 20)
        for request in received {
            let parameters = try #require(request.parameters)
            // The later of two parameters with one name wins, as over HTTP and gRPC.
            #expect(parameters == .object(["max_tokens": .int(256), "mode": .string("Fast"), "greedy": .bool(false)]), "\(parameters)")
        }
    }

    @Test("--profile-export-file: every request the report counts, the model received, with its outputs echoing its inputs")
    func profileExport() async throws {
        let workspace = try Workspace(models: ["identity_fp32"])
        defer { workspace.remove() }
        let input = workspace.root.appendingPathComponent("steps.json")
        let steps = (0..<3).map { step in "{\"INPUT0\":[\((0..<16).map { String(Double(step * 100 + $0) + 0.5) }.joined(separator: ","))]}" }
        try "{\"data\":[\(steps.joined(separator: ","))]}".write(to: input, atomically: true, encoding: .utf8)
        let export = workspace.root.appendingPathComponent("export.json").path
        let result = try await run(workspace, model: "identity_fp32", [
            "--concurrency-range", "2", "--request-count", "120", "--input-data", input.path, "--profile-export-file", export,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try ProfileExportEndToEndTests.read(export)
        #expect(file.service_kind == "triton_c_api")
        #expect(file.endpoint == "")
        #expect(file.experiments.map(\.experiment.mode) == ["concurrency"])
        let exported = file.experiments.flatMap(\.requests)
        #expect(reportedCount("Request count", in: result.stdout) == 120)
        #expect(exported.count == 120)
        #expect(try workspace.recorded("identity_fp32").count == 120)
        #expect(Set(exported.compactMap { $0.request_inputs["INPUT0"].map { "\($0)" } }).count == 3)
        for request in exported {
            #expect(request.response_timestamps.count == 1)
            #expect(request.timestamp <= request.response_timestamps[0])
            #expect(request.response_outputs.count == 1)
            #expect(request.response_outputs.first?["OUTPUT0"] == request.request_inputs["INPUT0"], "\(request.response_outputs)")
        }
    }

    @Test("a sequence model: correlation IDs and START/END flags reach the server, each sequence whole")
    func sequences() async throws {
        let workspace = try Workspace(models: ["sequence_accumulator"])
        defer { workspace.remove() }
        let file = workspace.root.appendingPathComponent("streams.json")
        try """
            {"data": [[{"INPUT": [1]}, {"INPUT": [2]}, {"INPUT": [3]}], [{"INPUT": [10]}, {"INPUT": [20]}]]}
            """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await run(workspace, model: "sequence_accumulator",
                                   ["--input-data", file.path, "--concurrency-range", "2", "--request-count", "40"])
        #expect(result.status == 0, "\(result.stderr)")
        let received = try workspace.recorded("sequence_accumulator")
        #expect(received.count >= 40)
        var live: [UInt64: [Int64]] = [:]
        var finished: [[Int64]] = []
        for request in received {
            guard let (id, start, end) = request.sequence else {
                Issue.record("a request carried no correlation ID")
                continue
            }
            if start {
                #expect(live[id] == nil, "sequence \(id) started twice")
                live[id] = []
            }
            live[id, default: []].append(request.firstValue(of: "INPUT") ?? .min)
            if end {
                finished.append(live[id] ?? [])
                live[id] = nil
            }
        }
        #expect(live.isEmpty, "sequences left open: \(live)")
        #expect(!finished.isEmpty)
        #expect(finished.allSatisfy { $0 == [1, 2, 3] || $0 == [10, 20] }, "\(finished)")
    }

    @Test("a decoupled model with --streaming: every response is counted, the final flag ends the request")
    func decoupled() async throws {
        let workspace = try Workspace(models: ["repeat_decoupled"])
        defer { workspace.remove() }
        let file = workspace.root.appendingPathComponent("repeat.json")
        try #"{"data": [{"IN": [3]}]}"#.write(to: file, atomically: true, encoding: .utf8)
        let result = try await run(workspace, model: "repeat_decoupled", ["--streaming", "--input-data", file.path, "--request-count", "20"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(reportedCount("Request count", in: result.stdout) == 20)
        // Three responses per request: the response throughput is three times the request throughput.
        func figure(_ label: String) -> Double? {
            result.stdout.split(separator: "\n").first { $0.hasPrefix(label) }
                .flatMap { Double($0.dropFirst(label.count).split(separator: " ").first ?? "") }
        }
        let requests = try #require(figure("    Throughput: "))
        let responses = try #require(figure("    Response Throughput: "))
        #expect(abs(responses / requests - 3) < 0.01, "\(responses) responses/s for \(requests) requests/s")
        #expect(try workspace.recorded("repeat_decoupled").count == 20)

        // Exported, each request has its three responses, each with its own outputs.
        let export = workspace.root.appendingPathComponent("export.json").path
        let exporting = try await run(workspace, model: "repeat_decoupled",
                                      ["--streaming", "--input-data", file.path, "--request-count", "10", "--profile-export-file", export])
        #expect(exporting.status == 0, "\(exporting.stderr)")
        let exported = try ProfileExportEndToEndTests.read(export).experiments.flatMap(\.requests)
        #expect(exported.count == 10)
        for request in exported {
            #expect(request.response_timestamps.count == 3)
            let expected: [[String: JSONValue]] = (0..<3).map { ["IDX": .int(Int64($0)), "OUT": .int(3)] }
            #expect(request.response_outputs == expected, "\(request.response_outputs)")
        }

        let refused = try await run(workspace, model: "repeat_decoupled", ["--input-data", file.path, "--request-count", "5"])
        #expect(refused.status == 99)
        #expect(refused.stderr.contains("is decoupled") && refused.stderr.contains("--streaming"), "\(refused.stderr)")
    }

    @Test("a server directory that cannot be used: one line naming the path and the reason, no crash")
    func badServerDirectory() async throws {
        let workspace = try Workspace(models: [])
        defer { workspace.remove() }
        func attempt(_ directory: String) async throws -> CommandResult {
            try await CommandRunner.run(BuiltTools.perfAnalyzer, [
                "-m", "identity_fp32", "--service-kind", "triton_c_api", "--triton-server-directory", directory,
                "--model-repository", workspace.repository,
            ])
        }
        let missing = try await attempt("/nonexistent/tritonserver")
        #expect(missing.status == 99)
        #expect(missing.stderr == "error: --triton-server-directory /nonexistent/tritonserver: no such directory\n")

        let empty = workspace.root.appendingPathComponent("empty-server")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let noLibrary = try await attempt(empty.path)
        #expect(noLibrary.status == 99)
        #expect(noLibrary.stderr.contains("\(empty.path)/lib/libtritonserver.so"), "\(noLibrary.stderr)")
        #expect(noLibrary.stderr.split(separator: "\n").count == 1, "\(noLibrary.stderr)")

        // A file that is not a library: dlopen's own reason is given.
        let broken = workspace.root.appendingPathComponent("broken-server")
        try FileManager.default.createDirectory(at: broken.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try "not a library".write(to: broken.appendingPathComponent("lib/libtritonserver.so"), atomically: true, encoding: .utf8)
        let notELF = try await attempt(broken.path)
        #expect(notELF.status == 99)
        #expect(notELF.stderr.hasPrefix("error: --triton-server-directory: cannot load \(broken.path)/lib/libtritonserver.so: "), "\(notELF.stderr)")
        #expect(notELF.stderr.split(separator: "\n").count == 1, "\(notELF.stderr)")

        // A model the repository does not hold: the server's own words, after a clean stop.
        let unknown = try await run(workspace, model: "no_such_model", ["--request-count", "5"])
        #expect(unknown.status == 99)
        #expect(unknown.stderr.contains("no_such_model"), "\(unknown.stderr)")
    }

    @Test("what the C API kind cannot honour is refused by name", arguments: [
        (["-u", "localhost:8000"], "-u: --service-kind triton_c_api runs Triton inside this process"),
        (["-H", "A:b"], "-H: --service-kind triton_c_api"),
        (["--shared-memory", "system"], "--shared-memory system: not implemented for --service-kind triton_c_api"),
        (["--input-tensor-format", "json"], "--input-tensor-format json: --service-kind triton_c_api"),
        (["--ssl-grpc-use-ssl"], "--ssl-grpc-use-ssl: --service-kind triton_c_api"),
    ])
    func refused(extra: [String], message: String) async throws {
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "--service-kind", "triton_c_api", "--model-repository", "/tmp",
        ] + extra)
        #expect(result.status == 99)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test("the C API flags need their kind, and the kind needs a repository")
    func flagPairs() async throws {
        let repository = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "m", "--model-repository", "/tmp"])
        #expect(repository.status == 99)
        #expect(repository.stderr.contains("--model-repository: applies to --service-kind triton_c_api"), "\(repository.stderr)")
        let directory = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "m", "--triton-server-directory", "/opt/tritonserver"])
        #expect(directory.status == 99)
        #expect(directory.stderr.contains("--triton-server-directory: applies to --service-kind triton_c_api"), "\(directory.stderr)")
        let noRepository = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "m", "--service-kind", "triton_c_api"])
        #expect(noRepository.status == 99)
        #expect(noRepository.stderr.contains("--model-repository is required"), "\(noRepository.stderr)")
        let other = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "m", "--service-kind", "tfserving"])
        #expect(other.status == 99)
        #expect(other.stderr.contains("--service-kind tfserving: not supported: there is no TensorFlow Serving here"), "\(other.stderr)")
    }
}
}
