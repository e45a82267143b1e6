import Foundation
import KServeProtocol
import NIOPosix
import Testing
@testable import PerfAnalyzerKit

private func ints(_ values: [Int]) -> [JSONValue] { values.map { .int(Int64($0)) } }

/// This run's objects in /dev/shm: region names start with `spa_<pid>_`.
private func regionFiles(of pid: Int32) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
    return names.filter { $0.hasPrefix("spa_\(pid)_") }.sorted()
}

/// The system shared-memory regions the server has registered, by name (its own status call).
private func registeredRegions(httpURL: String) async throws -> [String] {
    struct Region: Decodable { var name: String }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let connection = HTTPControlClient(group: group, address: try ServerAddress(parsing: httpURL, defaultPort: 8000), headers: [])
    let response = try await connection.get("/v2/systemsharedmemory/status")
    await connection.close()
    try await group.shutdownGracefully()
    #expect(response.status == 200, "\(response.text)")
    return try JSONDecoder().decode([Region].self, from: Data(response.body.readableBytesView)).map(\.name)
}

/// Nothing of run `pid` is left: no object in /dev/shm, no region on the server.
private func expectReleased(_ pid: Int32, server: RecordingServer, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    #expect(regionFiles(of: pid).isEmpty, "left in /dev/shm: \(regionFiles(of: pid))", sourceLocation: sourceLocation)
    let registered = try await registeredRegions(httpURL: server.httpURL).filter { $0.hasPrefix("spa_\(pid)_") }
    #expect(registered.isEmpty, "still registered: \(registered)", sourceLocation: sourceLocation)
}

extension EndToEnd {
@Suite("--shared-memory system: tensors through registered regions, always cleaned up")
struct SharedMemoryEndToEndTests {
    static let servers = ["sim", "triton", "sim-grpc", "triton-grpc"]

    private func run(_ server: RecordingServer, model: String, _ arguments: [String],
                     environment: [String: String] = [:]) async throws -> (CommandResult, [TritonEnvironment.RecordedRequest]) {
        let before = try server.recordedCount(model)
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", model] + server.address + arguments, environment: environment)
        return (result, try server.recorded(model, from: before))
    }

    @Test("the model receives the file's data through input regions; validation reads output regions, with -b 2 too",
          arguments: servers)
    func dataAndValidation(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let input0 = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
        let input1 = [[10, 20, 30, 40], [1, 1, 1, 1], [0, 0, 0, -1]]
        func steps(_ validation: (Int) -> (sum: [Int], difference: [Int])) -> String {
            let data = (0..<3).map { #"{"INPUT0": \#(input0[$0]), "INPUT1": \#(input1[$0])}"# }
            let expected = (0..<3).map { #"{"OUTPUT0": \#(validation($0).sum), "OUTPUT1": \#(validation($0).difference)}"# }
            return #"{"data": [\#(data.joined(separator: ","))], "validation_data": [\#(expected.joined(separator: ","))]}"#
        }
        let file = try temporaryFile(steps { step in
            (zip(input0[step], input1[step]).map(+), zip(input0[step], input1[step]).map(-))
        })
        // Step 2's OUTPUT1 is off by one in its last element.
        let wrong = try temporaryFile(steps { step in
            (zip(input0[step], input1[step]).map(+), zip(input0[step], input1[step]).map(-).enumerated().map { step == 2 && $0 == 3 ? $1 + 1 : $1 })
        })
        defer { for path in [file, wrong] { try? FileManager.default.removeItem(atPath: path) } }

        let (single, received) = try await run(server, model: "add_sub", ["--shared-memory", "system", "--input-data", file,
                                                                           "--request-count", "6", "--sync"])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(received.count == 6)
        for (index, request) in received.enumerated() {
            #expect(request.inputs.first { $0.name == "INPUT0" }?.data == ints(input0[index % 3]))
            #expect(request.inputs.first { $0.name == "INPUT1" }?.data == ints(input1[index % 3]))
            if kind.hasPrefix("sim") {
                // kserve-sim records where each input came from: a region of this run, none in the request.
                #expect(request.inputs.allSatisfy { $0.shared_memory_region?.hasPrefix("spa_\(single.pid)_") == true })
            }
        }
        try await expectReleased(single.pid, server: server)

        let (batched, stacked) = try await run(server, model: "add_sub", ["--shared-memory", "system", "--input-data", file,
                                                                           "--request-count", "3", "-b", "2"])
        #expect(batched.status == 0, "\(batched.stderr)")
        #expect(stacked.count == 3)
        for (index, request) in stacked.enumerated() {
            let first = [0, 2, 1][index]
            #expect(request.inputs.first { $0.name == "INPUT0" }?.shape == [2, 4])
            #expect(request.inputs.first { $0.name == "INPUT0" }?.data == ints(input0[first] + input0[(first + 1) % 3]))
        }
        try await expectReleased(batched.pid, server: server)

        // The response carries no output bytes: only reading the region can find the difference.
        let (failed, _) = try await run(server, model: "add_sub", ["--shared-memory", "system", "--input-data", wrong, "--request-count", "6"])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("validation failed for output 'OUTPUT1', data step 2, index 3: expected 14, received 13"), "\(failed.stderr)")
        try await expectReleased(failed.pid, server: server)
    }

    @Test("BYTES and variable-shaped outputs are read back from their regions", arguments: servers)
    func variableOutputs(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let strings = try temporaryFile("""
            {"data": [{"INPUT0": {"content": ["alpha", "beta"], "shape": [2]}}, {"INPUT0": {"content": ["γάμμα", "", "delta"], "shape": [3]}}],
             "validation_data": [{"OUTPUT0": ["alpha", "beta"]}, {"OUTPUT0": ["γάμμα", "", "delta"]}]}
            """)
        let shapes = try temporaryFile("""
            {"data": [{"INPUT0": {"content": [1, 2, 3, 4, 5, 6], "shape": [2, 3]}}, {"INPUT0": {"content": [7, 8], "shape": [1, 2]}}],
             "validation_data": [{"OUTPUT0": [1, 2, 3, 4, 5, 6]}, {"OUTPUT0": [7, 8]}]}
            """)
        defer { for path in [strings, shapes] { try? FileManager.default.removeItem(atPath: path) } }

        let (text, textRequests) = try await run(server, model: "identity_bytes", ["--shared-memory", "system", "--input-data", strings,
                                                                                    "--request-count", "4", "--sync"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(textRequests.map { $0.inputs[0].data } == [
            [.string("alpha"), .string("beta")], [.string("γάμμα"), .string(""), .string("delta")],
            [.string("alpha"), .string("beta")], [.string("γάμμα"), .string(""), .string("delta")],
        ])
        try await expectReleased(text.pid, server: server)

        let (numbers, numberRequests) = try await run(server, model: "identity_int32_dynamic", ["--shared-memory", "system", "--input-data", shapes,
                                                                                               "--request-count", "4", "--sync"])
        #expect(numbers.status == 0, "\(numbers.stderr)")
        #expect(numberRequests.map { $0.inputs[0].shape } == [[2, 3], [1, 2], [2, 3], [1, 2]])
        #expect(numberRequests.map { $0.inputs[0].data } == [ints([1, 2, 3, 4, 5, 6]), ints([7, 8]), ints([1, 2, 3, 4, 5, 6]), ints([7, 8])])
        try await expectReleased(numbers.pid, server: server)
    }

    @Test("an output larger than --output-shared-memory-size: one line with the output and both sizes, regions released",
          arguments: servers)
    func outputTooLarge(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        // 64 INT32 values take 256 bytes; the region of a variable-shaped output gets 128.
        let (result, _) = try await run(server, model: "identity_int32_dynamic", ["--shared-memory", "system", "--shape", "INPUT0:1,64",
                                                                                  "--output-shared-memory-size", "128", "-p", "500"])
        #expect(result.status != 0)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains("OUTPUT0") == true && errors.first?.contains("128") == true
                && errors.first?.contains("256") == true && errors.first?.contains("--output-shared-memory-size") == true, "\(result.stderr)")
        try await expectReleased(result.pid, server: server)
    }

    @Test("SIGINT or SIGTERM mid-measurement: the run reports, then unregisters and unlinks every region",
          arguments: [("sim", SIGINT), ("triton-grpc", SIGTERM), ("sim-grpc", SIGTERM), ("triton", SIGINT)])
    func interrupted(kind: String, signal: Int32) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let before = try await server.successCount("identity_fp32")
        let run = try BackgroundCommand(BuiltTools.perfAnalyzer, ["-m", "identity_fp32"] + server.address
            // A modest request rate: every request Triton records is read back by later tests.
            + ["--shared-memory", "system", "--request-rate-range", "200:1000:200", "-p", "300", "-s", "100", "-b", "4"])
        let pid = run.process.processIdentifier
        // Wait until the load is on and one level is reported: requests answered, this run's
        // regions in /dev/shm and on the server.
        var live: [String] = []
        for _ in 0..<400 {
            if try await server.successCount("identity_fp32") > before + 50, run.stdout.snapshot().contains("  Client: ") {
                live = try await registeredRegions(httpURL: server.httpURL).filter { $0.hasPrefix("spa_\(pid)_") }
                break
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(!live.isEmpty, "no region of the run was registered while it ran")
        #expect(Set(regionFiles(of: pid)) == Set(live), "the objects in /dev/shm should be the registered regions")
        kill(pid, signal)
        #expect(await run.waitForExit(timeout: 30))
        #expect(run.process.terminationStatus == 130)
        #expect(run.stdout.text().contains("Inferences/Second vs. Client Average Batch Latency"))
        try await expectReleased(pid, server: server)
    }

    @Test("the server dies mid-run: the run fails in one line and still unlinks its regions")
    func serverDies() async throws {
        let sim = try SimulatorProcess()
        let run = try BackgroundCommand(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", sim.url, "--shared-memory", "system",
                                                                 "--concurrency-range", "1:8", "-p", "300", "-s", "100"])
        let pid = run.process.processIdentifier
        for _ in 0..<200 {
            let answered = try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value
            if answered >= 50 && !regionFiles(of: pid).isEmpty { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(!regionFiles(of: pid).isEmpty)
        kill(sim.process.processIdentifier, SIGKILL)
        #expect(await run.waitForExit(timeout: 30))
        #expect(run.process.terminationStatus != 0)
        #expect(run.stderr.text().contains("error:"))
        #expect(regionFiles(of: pid).isEmpty, "left in /dev/shm: \(regionFiles(of: pid))")
    }

    @Test("perf_analyzer itself passes its tensors through kserve-sim's regions", arguments: ["sim", "sim-grpc"])
    func referenceAgainstSimulator(kind: String) async throws {
        let reference = try TritonEnvironment.current().referencePerfAnalyzer
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let before = try server.recordedCount("add_sub")
        let result = try await CommandRunner.run(reference, ["-m", "add_sub"] + server.address + ["--shared-memory", "system", "--request-count", "20"])
        #expect(result.status == 0, "\(result.stderr)")
        let received = try server.recorded("add_sub", from: before)
        #expect(received.count >= 20)
        // perf_analyzer names its regions after the tensors (stream 0, step 0).
        #expect(received.allSatisfy { $0.inputs.map(\.shared_memory_region) == ["INPUT0_0_0", "INPUT1_0_0"] })
    }

    @Test("a server without the extension, or one that refuses a region: one line, no load, nothing left",
          arguments: [("sim", "absent"), ("sim-grpc", "absent"), ("sim", "refusing"), ("sim-grpc", "refusing")])
    func refused(kind: String, support: String) async throws {
        let server = try RecordingServer.start(kind, simulatorArguments: ["--system-shared-memory", support])
        defer { server.stop() }
        let (result, received) = try await run(server, model: "identity_fp32", ["--shared-memory", "system", "-p", "500"])
        #expect(result.status != 0)
        #expect(received.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        let line = String(lines.first ?? "")
        #expect(line.hasPrefix("error: --shared-memory system: "), "\(line)")
        if support == "absent" {
            #expect(line.contains("does not offer the system_shared_memory extension"), "\(line)")
        } else {
            #expect(line.contains("refused to register region 'spa_\(result.pid)_") && line.contains(" bytes): "), "\(line)")
        }
        #expect(regionFiles(of: result.pid).isEmpty, "left in /dev/shm: \(regionFiles(of: result.pid))")
        if support == "refusing" {
            #expect(try await registeredRegions(httpURL: server.httpURL).isEmpty)
        }
    }

    /// Where a GPU exists, the no-GPU line cannot be shown: there the test reports itself as not run.
    static var hasGPU: Bool {
        let directory = ProcessInfo.processInfo.environment["CUDA_RUNTIME_DIR"].map { ["\($0)/libcudart.so.12"] } ?? []
        return (try? CUDARuntime.load(libraryNames: CUDARuntime.libraryNames + directory)) != nil
    }

    @Test("--shared-memory cuda without a GPU: one line saying what is missing, before any load",
          .enabled(if: !hasGPU, "this machine has a GPU: the no-GPU lines cannot be shown here"),
          arguments: ["sim", "sim-grpc"])
    func cudaWithoutGPU(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        // Without a CUDA runtime on the loader's path…
        let (missing, none) = try await run(server, model: "identity_fp32", ["--shared-memory", "cuda"])
        #expect(missing.status != 0)
        #expect(none.isEmpty)
        #expect(missing.stderr.hasPrefix("error: --shared-memory cuda: no CUDA runtime found (tried libcudart.so, libcudart.so.12, libcudart.so.11): "),
                "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        // …and with the real runtime (scripts/install-cuda-runtime.sh) on a machine without a GPU.
        let runtime = try #require(ProcessInfo.processInfo.environment["CUDA_RUNTIME_DIR"],
                                   "CUDA_RUNTIME_DIR is not set: run the suite with scripts/test.sh, which installs the CUDA runtime")
        let (noGPU, stillNone) = try await run(server, model: "identity_fp32", ["--shared-memory", "cuda"], environment: ["LD_LIBRARY_PATH": runtime])
        #expect(noGPU.status != 0)
        #expect(stillNone.isEmpty)
        #expect(noGPU.stderr.hasPrefix("error: --shared-memory cuda: the CUDA runtime ("), "\(noGPU.stderr)")
        #expect(noGPU.stderr.contains("found no GPU"), "\(noGPU.stderr)")
        #expect(noGPU.stderr.split(separator: "\n").count == 1, "\(noGPU.stderr)")
    }
}
}
