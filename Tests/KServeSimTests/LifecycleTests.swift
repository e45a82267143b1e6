import Foundation
import KServeProtocol
import KServeSim
import NIOHTTP1
import Testing

@Suite("Lifecycle and recording")
struct LifecycleTests {
    @Test func secondServerOnSamePortFailsClearly() async throws {
        let first = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1))
        let port = try await first.start()
        #expect(first.httpPort == port)
        let second = KServeSimulator(configuration: .init(httpPort: port, grpcPort: 0, threads: 1))
        await #expect(throws: SimulatorError.addressInUse(host: "127.0.0.1", port: port)) {
            try await second.start()
        }
        await #expect(throws: SimulatorError.alreadyStarted) { try await first.start() }
        try await first.stop()
        try await first.stop()
        #expect(first.httpPort == nil)
    }

    @Test func secondServerOnSameGRPCPortFailsAndReleasesItsHTTPPort() async throws {
        let first = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1))
        try await first.start()
        let grpcPort = try #require(first.grpcPort)
        let second = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: grpcPort, threads: 1))
        await #expect(throws: SimulatorError.addressInUse(host: "127.0.0.1", port: grpcPort)) {
            try await second.start()
        }
        #expect(second.httpPort == nil)
        #expect(second.grpcPort == nil)
        try await first.stop()
        #expect(first.grpcPort == nil)
        // The port is free again once the first one stopped.
        try await second.start()
        #expect(second.grpcPort == grpcPort)
        try await second.stop()
    }

    @Test func recordsWhatTheServerReceived() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kserve-sim-record-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withSimulator(recordPath: path) { client in
            let binary = InferRequest(id: "first", parameters: ["sequence_id": .int(42), "sequence_start": .bool(true)],
                                      binaryInputs: [("INPUT", .int32, [1], rawBytes([Int32(-5)]))])
            let sequenced = try await client.infer("sequence_accumulator", binary)
            #expect(sequenced.status == .ok)
            let json = InferRequest(jsonInputs: [("INPUT0", .int32, [1, 4], .array([1, 2, 3, 4].map(JSONValue.int))),
                                                 ("INPUT1", .int32, [1, 4], .array([[5, 6], [7, 8]].map { .array($0.map(JSONValue.int)) }))])
            // INPUT1 is nested differently from its shape; the server flattens it.
            let added = try await client.infer("add_sub", json)
            #expect(added.status == .ok)
        }
        let lines = try RecordedLine.read(path)
        #expect(lines.count == 2)
        let first = lines[0]
        #expect(first.model == "sequence_accumulator")
        #expect(first.id == "first")
        #expect(first.parameters["sequence_id"] == .int(42))
        #expect(first.parameters["sequence_start"] == .bool(true))
        #expect(first.inputs.map(\.name) == ["INPUT"])
        #expect(first.inputs.first?.data == [.int(-5)])
        let second = lines[1]
        #expect(second.model == "add_sub")
        #expect(second.id == nil)
        #expect(second.inputs.map(\.shape) == [[1, 4], [1, 4]])
        #expect(second.inputs.last?.data == [5, 6, 7, 8].map(JSONValue.int))
        #expect(second.inputs.first?.datatype == "INT32")
    }

    @Test func unreadableRecordFileIsAStartError() async throws {
        let simulator = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1, recordPath: "/nonexistent-dir/x.jsonl"))
        await #expect(throws: SimulatorError.self) { try await simulator.start() }
        #expect(simulator.httpPort == nil)
    }
}
