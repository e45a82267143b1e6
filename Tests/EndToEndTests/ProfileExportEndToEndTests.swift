import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// `--profile-export-file` and `--request-parameter` against real servers: the export's requests
/// are compared with the report's counts and with what the server's recording saw.
extension EndToEnd {
@Suite("Profile export and request parameters")
struct ProfileExportEndToEndTests {
    struct Export: Decodable {
        struct Experiment: Decodable {
            struct Mode: Decodable {
                var mode: String
                var value: Double
            }
            struct Request: Decodable {
                var timestamp: UInt64
                var sequence_id: UInt64?
                var request_inputs: [String: JSONValue]
                var response_timestamps: [UInt64]
                var response_outputs: [[String: JSONValue]]
            }
            var experiment: Mode
            var requests: [Request]
            var window_boundaries: [UInt64]

            /// Requests whose answer completed in the last `count` windows.
            func requestsInLastWindows(_ count: Int) -> Int {
                let start = window_boundaries[window_boundaries.count - 1 - count]
                let end = window_boundaries.last!
                return requests.filter { ($0.response_timestamps.last ?? 0) >= start && ($0.response_timestamps.last ?? 0) < end }.count
            }
        }
        var experiments: [Experiment]
        var version: String
        var service_kind: String
        var endpoint: String
    }

    /// One line of kserve-sim's `--record` file.
    struct SimRecord: Decodable {
        struct Input: Decodable {
            var name: String
            var data: JSONValue
        }
        var parameters: [String: JSONValue]?
        var inputs: [Input]

        static func read(_ path: String) throws -> [SimRecord] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
            return try text.split(separator: "\n").map { try JSONDecoder().decode(SimRecord.self, from: Data($0.utf8)) }
        }
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).json").path
    }

    static func read(_ path: String) throws -> Export {
        try JSONDecoder().decode(Export.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Each level's "Request count" from the console, in order.
    static func reportedCounts(_ stdout: String) -> [Int] {
        stdout.split(separator: "\n").compactMap { line in
            line.hasPrefix("    Request count: ") ? Int(line.split(separator: " ").last!) : nil
        }
    }

    /// Three distinct data steps, so the export's inputs can be told apart.
    static func inputFile() throws -> String {
        let path = temporaryPath("export-input")
        let steps = (0..<3).map { step in "{\"INPUT0\":[\((0..<16).map { String(Double(step * 100 + $0) + 0.5) }.joined(separator: ","))]}" }
        try "{\"data\":[\(steps.joined(separator: ","))]}".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("kserve-sim, HTTP and gRPC: one experiment per level, the reported windows hold the reported requests, inputs as received",
          arguments: [false, true])
    func simulatorExport(grpc: Bool) async throws {
        let record = Self.temporaryPath("export-record")
        let sim = try SimulatorProcess(arguments: ["--record", record])
        defer { sim.stop() }
        let export = Self.temporaryPath("export")
        let input = try Self.inputFile()
        defer { for path in [record, export, input] { try? FileManager.default.removeItem(atPath: path) } }
        let server = grpc ? ["-i", "grpc", "-u", sim.grpcURL] : ["-u", sim.url]
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "--concurrency-range", "1:3", "-p", "300", "-s", "100", "--input-data", input,
            "--profile-export-file", export,
        ] + server)
        #expect(result.status == 0, "\(result.stderr)")
        let file = try Self.read(export)
        #expect(file.service_kind == "triton")
        #expect(file.endpoint == "")
        #expect(file.experiments.map(\.experiment.mode) == ["concurrency", "concurrency", "concurrency"])
        #expect(file.experiments.map(\.experiment.value) == [1, 2, 3])
        let counts = Self.reportedCounts(result.stdout)
        #expect(counts.count == 3)
        for (experiment, count) in zip(file.experiments, counts) {
            #expect(experiment.window_boundaries.count >= 4)
            #expect(experiment.window_boundaries == experiment.window_boundaries.sorted())
            #expect(experiment.requestsInLastWindows(3) == count)
            // Every exported request completed inside one of the level's windows.
            for request in experiment.requests {
                #expect(request.response_timestamps.count == 1)
                #expect(request.timestamp <= request.response_timestamps[0])
                #expect(request.response_timestamps[0] >= experiment.window_boundaries.first!)
                #expect(request.response_timestamps[0] <= experiment.window_boundaries.last!)
            }
        }
        // The inputs exported are the ones the server received, and the identity model's outputs echo them.
        let received = Set(try SimRecord.read(record).compactMap { $0.inputs.first.map { "\($0.data)" } })
        #expect(received.count == 3)
        let exported = file.experiments.flatMap(\.requests)
        #expect(Set(exported.compactMap { $0.request_inputs["INPUT0"].map { "\($0)" } }) == received)
        for request in exported.prefix(50) {
            #expect(request.response_outputs.count == 1)
            #expect(request.response_outputs.first?["OUTPUT0"] == request.request_inputs["INPUT0"])
        }
    }

    @Test("kserve-sim, decoupled over a stream: every response's time and outputs")
    func decoupledExport() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let export = Self.temporaryPath("export-decoupled")
        let input = Self.temporaryPath("export-decoupled-input")
        try #"{"data":[{"IN":[3]}]}"#.write(toFile: input, atomically: true, encoding: .utf8)
        defer { for path in [export, input] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "repeat_decoupled", "-i", "grpc", "--streaming", "-u", sim.grpcURL, "--concurrency-range", "2",
            "-p", "300", "-s", "100", "--input-data", input, "--profile-export-file", export,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let experiment = try #require(try Self.read(export).experiments.first)
        #expect(experiment.requestsInLastWindows(3) == Self.reportedCounts(result.stdout).first)
        for request in experiment.requests.prefix(50) {
            #expect(request.request_inputs["IN"] == .int(3))
            #expect(request.response_timestamps.count == 3)
            #expect(request.response_timestamps == request.response_timestamps.sorted())
            #expect(request.response_outputs.map { $0["IDX"] } == [.int(0), .int(1), .int(2)])
        }
    }

    @Test("sequence models: each exported request carries its sequence id")
    func sequenceExport() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let export = Self.temporaryPath("export-sequence")
        defer { try? FileManager.default.removeItem(atPath: export) }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "sequence_accumulator", "-u", sim.url, "--concurrency-range", "2", "--request-count", "40",
            "--sequence-id-range", "500:600", "--profile-export-file", export,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let requests = try #require(try Self.read(export).experiments.first).requests
        #expect(requests.count == 40)
        #expect(requests.allSatisfy { (500..<600).contains($0.sequence_id ?? 0) })
    }

    @Test("an export path that exists, is a directory or cannot be created: one line, exit 99, nothing sent")
    func refusedPaths() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let existing = Self.temporaryPath("export-exists")
        try "x".write(toFile: existing, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: existing) }
        let cases: [(String, String)] = [
            (existing, "--profile-export-file \(existing): the file already exists (the export never overwrites one)"),
            (FileManager.default.temporaryDirectory.path, "--profile-export-file \(FileManager.default.temporaryDirectory.path): is a directory; name a file that does not exist yet"),
            ("/nonexistent-\(UUID().uuidString)/export.json", "cannot be created: No such file or directory"),
        ]
        for (path, expected) in cases {
            let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", sim.url, "--profile-export-file", path])
            #expect(result.status == 99)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(expected), "\(result.stderr)")
        }
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 0)
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "x")
    }

    @Test("the disk fills during the run: it stops with the reason and reports the levels measured")
    func fileSizeLimit() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let export = Self.temporaryPath("export-full")
        defer { try? FileManager.default.removeItem(atPath: export) }
        // bash's ulimit -f counts KiB: the first window's requests already pass 256 KiB.
        let command = "ulimit -f 256; exec '\(BuiltTools.perfAnalyzer)' -m identity_fp32 -u \(sim.url) --concurrency-range 1:8 -p 500 -s 100 --profile-export-file '\(export)'"
        let result = try await CommandRunner.run("/bin/bash", ["-c", command])
        #expect(result.status == 99, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("--profile-export-file \(export): writing failed: File too large"), "\(result.stderr)")
        #expect(result.stdout.contains("Request concurrency: 1"))
        #expect(result.stdout.contains("Request concurrency: 8") == false)
    }

    @Test("--request-parameter: kserve-sim's record shows each parameter with its type, over HTTP and gRPC", arguments: [false, true])
    func simulatorParameters(grpc: Bool) async throws {
        let record = Self.temporaryPath("parameters-record")
        let sim = try SimulatorProcess(arguments: ["--record", record])
        defer { sim.stop() }
        defer { try? FileManager.default.removeItem(atPath: record) }
        let server = grpc ? ["-i", "grpc", "-u", sim.grpcURL] : ["-u", sim.url]
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "sequence_accumulator", "--concurrency-range", "1", "--request-count", "10",
            "--request-parameter", "max_tokens:256:int", "--request-parameter", "mode:Fast:string",
            "--request-parameter", "greedy:true:bool",
        ] + server)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try SimRecord.read(record)
        // The measured requests, and the one that closes the live sequence.
        #expect(lines.count == 11)
        for line in lines {
            let parameters = try #require(line.parameters)
            #expect(parameters["max_tokens"] == .int(256))
            #expect(parameters["mode"] == .string("Fast"))
            #expect(parameters["greedy"] == .bool(true))
            // The sequence's own parameters travel beside them.
            #expect(parameters["sequence_id"] != nil)
        }
    }

    @Test("--request-parameter refused with one line: wrong shape, unknown type, bad value")
    func refusedParameters() async throws {
        for (value, expected) in [
            ("max_tokens:256", "--request-parameter max_tokens:256: expected name:value:type"),
            ("max_tokens:256:uint", "--request-parameter max_tokens:256:uint: the type 'uint' is not one of bool, int, string"),
            ("n:x:int", "--request-parameter n:x:int: 'x' is not a 64-bit integer"),
            ("b:yes:bool", "--request-parameter b:yes:bool: expected true or false, found 'yes'"),
        ] {
            let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "--request-parameter", value])
            #expect(result.status == 99)
            #expect(result.stderr == "error: \(expected)\n")
        }
    }
}
}
