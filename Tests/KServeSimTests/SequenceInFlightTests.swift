import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import KServeSim
import Testing

/// `sequence_in_flight` in the record: how many other requests of the same sequence
/// the server held unanswered when a request arrived. The delay keeps the first
/// request of an overlapping pair in flight long enough for the second to arrive.
@Suite("Sequence requests in flight, as recorded")
struct SequenceInFlightTests {
    // Long enough that the overlap survives a CI machine busy with other suites (a 300 ms delay
    // once let the first request finish before the second arrived).
    static let delay = 1_000_000

    static func recordPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kserve-sim-in-flight-\(UUID().uuidString).jsonl").path
    }

    /// The request is recorded on arrival, before it runs: once its line is there, it is in flight.
    static func waitUntilRecorded(_ id: String, in path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try RecordedLine.read(path).contains(where: { $0.id == id }) { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestClientError("request '\(id)' was never recorded")
    }

    static func inFlight(_ lines: [RecordedLine], _ id: String) -> Int?? {
        lines.first { $0.id == id }.map(\.sequenceInFlight)
    }

    static func httpStep(_ id: String, sequence: Int64, start: Bool = false, end: Bool = false) -> InferRequest {
        InferRequest(id: id, parameters: ["sequence_id": .int(sequence), "sequence_start": .bool(start), "sequence_end": .bool(end)],
                     binaryInputs: [("INPUT", .int32, [1], rawBytes([Int32(1)]))])
    }

    static func grpcStep(_ id: String, sequence: Int64, start: Bool = false,
                         extra: [String: Inference_InferParameter] = [:]) -> Inference_ModelInferRequest {
        .raw(model: "sequence_accumulator", id: id,
             parameters: ["sequence_id": int64Parameter(sequence), "sequence_start": boolParameter(start)]
                .merging(extra) { _, new in new },
             inputs: [("INPUT", .int32, [1], rawBytes([Int32(1)]))])
    }

    @Test func overlappingHTTPRequestsOfOneSequenceAreCountedSerialOnesAreNot() async throws {
        let path = Self.recordPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withSimulator(delayMicroseconds: Self.delay, recordPath: path) { client in
            // A serial client: each request waits for the previous answer.
            #expect(try await client.infer("sequence_accumulator", Self.httpStep("serial-1", sequence: 11, start: true)).status == .ok)
            #expect(try await client.infer("sequence_accumulator", Self.httpStep("serial-2", sequence: 11, end: true)).status == .ok)

            // The second request of sequence 12 is sent, on its own connection, while the first is still executing.
            async let first = client.infer("sequence_accumulator", Self.httpStep("overlap-1", sequence: 12, start: true))
            try await Self.waitUntilRecorded("overlap-1", in: path)
            async let second = client.infer("sequence_accumulator", Self.httpStep("overlap-2", sequence: 12))
            // Another sequence at the same time does not count.
            let other = try await client.infer("sequence_accumulator", Self.httpStep("other-1", sequence: 13, start: true))
            #expect(other.status == .ok)
            #expect(try await first.status == .ok)
            #expect(try await second.status == .ok)

            // Both answered: the sequence has nothing in flight any more.
            #expect(try await client.infer("sequence_accumulator", Self.httpStep("after", sequence: 12, end: true)).status == .ok)
            #expect(try await client.infer("identity_fp32", InferRequest(
                id: "plain", binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])).status == .ok)
        }
        let lines = try RecordedLine.read(path)
        #expect(lines.count == 7)
        #expect(Self.inFlight(lines, "serial-1") == 0)
        #expect(Self.inFlight(lines, "serial-2") == 0)
        #expect(Self.inFlight(lines, "overlap-1") == 0)
        #expect(Self.inFlight(lines, "overlap-2") == 1)
        #expect(Self.inFlight(lines, "other-1") == 0)
        #expect(Self.inFlight(lines, "after") == 0)
        // Not a sequence model: the field is left out.
        #expect(Self.inFlight(lines, "plain") == .some(nil))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let plain = try #require(text.split(separator: "\n").first { $0.contains("\"plain\"") })
        #expect(!plain.contains("sequence_in_flight"))
    }

    @Test func overlappingUnaryRequestsAreCounted() async throws {
        let path = Self.recordPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withGRPCSimulator(delayMicroseconds: Self.delay, recordPath: path) { context in
            let grpc = context.grpc
            _ = try await grpc.modelInfer(Self.grpcStep("serial-1", sequence: 31, start: true))
            _ = try await grpc.modelInfer(Self.grpcStep("serial-2", sequence: 31))

            async let first = grpc.modelInfer(Self.grpcStep("overlap-1", sequence: 32, start: true))
            try await Self.waitUntilRecorded("overlap-1", in: path)
            _ = try await grpc.modelInfer(Self.grpcStep("overlap-2", sequence: 32))
            _ = try await first
        }
        let lines = try RecordedLine.read(path)
        #expect(Self.inFlight(lines, "serial-1") == 0)
        #expect(Self.inFlight(lines, "serial-2") == 0)
        #expect(Self.inFlight(lines, "overlap-1") == 0)
        #expect(Self.inFlight(lines, "overlap-2") == 1)
    }

    /// The server answers a stream's requests one at a time, so the second of two sent
    /// back to back waits for its turn; it has arrived all the same and must count.
    @Test func streamedRequestWaitingBehindAnotherIsCounted() async throws {
        let path = Self.recordPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withGRPCSimulator(delayMicroseconds: Self.delay, recordPath: path) { context in
            // A generous deadline: the full suite runs many servers at once on two cores.
            _ = try await context.grpc.withStream(options: failFast(seconds: 60)) { stream in
                stream.send(Self.grpcStep("serial-1", sequence: 41, start: true))
                _ = try await stream.next()
                stream.send(Self.grpcStep("serial-2", sequence: 41))
                _ = try await stream.next()

                stream.send(Self.grpcStep("queued-1", sequence: 42, start: true))
                stream.send(Self.grpcStep("queued-2", sequence: 42))
                stream.send(Self.grpcStep("queued-3", sequence: 42))
                let answers = try await stream.next(3)
                #expect(answers.allSatisfy { $0.errorMessage.isEmpty })
                return answers.count
            }
        }
        let lines = try RecordedLine.read(path)
        #expect(Self.inFlight(lines, "serial-1") == 0)
        #expect(Self.inFlight(lines, "serial-2") == 0)
        #expect(Self.inFlight(lines, "queued-1") == 0)
        #expect(Self.inFlight(lines, "queued-2") == 1)
        #expect(Self.inFlight(lines, "queued-3") == 2)
    }

    /// A stream closed with requests still queued must not leave them counted forever.
    @Test func requestsQueuedOnAClosedStreamStopCounting() async throws {
        let path = Self.recordPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withGRPCSimulator(delayMicroseconds: Self.delay, recordPath: path) { context in
            let closing = Self.grpcStep("closing", sequence: 51, extra: ["sim_close_stream": boolParameter(true)])
            let failure = await #expect(throws: RPCError.self) {
                try await context.grpc.withStream { stream in
                    stream.send(Self.grpcStep("started", sequence: 51, start: true))
                    stream.send(closing)
                    stream.send(Self.grpcStep("never-answered", sequence: 51))
                    _ = try await stream.next(2)
                }
            }
            #expect(failure?.code == .unavailable)
            let after = try await context.http.infer("sequence_accumulator", Self.httpStep("after", sequence: 51, end: true))
            #expect(after.status == .ok, "\(after.text)")
        }
        let lines = try RecordedLine.read(path)
        #expect(Self.inFlight(lines, "started") == 0)
        #expect(Self.inFlight(lines, "after") == 0)
        // Neither the closing request nor the one behind it ran, so neither was recorded.
        #expect(lines.map(\.id) == ["started", "after"])
    }
}
