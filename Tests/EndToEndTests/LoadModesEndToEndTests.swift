import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

/// One sequence as the server saw it: its ID and the INPUT values in arrival order.
private struct ServerSequence {
    var id: UInt64
    var values: [Int64] = []
    var ended = false
}

/// Splits the server's record of `sequence_accumulator` into sequences, checking on the way
/// that each starts once with START, ends once with END, and that no two live sequences share
/// an ID. Returns the sequences in the order they started, or the first problem.
private func serverSequences(_ records: [TritonEnvironment.RecordedRequest]) -> Result<[ServerSequence], Failure> {
    var live: [UInt64: Int] = [:]
    var sequences: [ServerSequence] = []
    for (index, record) in records.enumerated() {
        guard let (id, start, end) = record.sequence else { return .failure(Failure("request \(index) carries no sequence ID")) }
        if start {
            guard live[id] == nil else { return .failure(Failure("request \(index) starts sequence \(id) while it is still live")) }
            live[id] = sequences.count
            sequences.append(ServerSequence(id: id))
        }
        guard let position = live[id] else { return .failure(Failure("request \(index) continues sequence \(id), which never started")) }
        sequences[position].values.append(record.firstValue(of: "INPUT") ?? .min)
        if end {
            sequences[position].ended = true
            live[id] = nil
        }
    }
    if let open = live.keys.sorted().first { return .failure(Failure("sequence \(open) was left open at the end of the run")) }
    return .success(sequences)
}

private struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Two streams for sequence_accumulator with the running sums the model must answer.
private let accumulatorStreams = """
    {"data": [[{"INPUT": [1]}, {"INPUT": [2]}, {"INPUT": [3]}], [{"INPUT": [10]}, {"INPUT": [20]}]],
     "validation_data": [[{"OUTPUT": [1]}, {"OUTPUT": [3]}, {"OUTPUT": [6]}], [{"OUTPUT": [10]}, {"OUTPUT": [30]}]]}
    """

extension EndToEnd {
@Suite("Request rate, intervals and sequences, checked on the server")
struct LoadModesEndToEndTests {
    static let servers = ["sim", "triton", "sim-grpc", "triton-grpc"]

    private func run(_ server: RecordingServer, model: String, _ arguments: [String]) async throws -> (CommandResult, [TritonEnvironment.RecordedRequest], TimeInterval) {
        let before = try server.recordedCount(model)
        let started = Date()
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", model] + server.address + arguments)
        let elapsed = Date().timeIntervalSince(started)
        return (result, try server.recorded(model, from: before), elapsed)
    }

    @Test("a request-rate run sends what the schedule says: the server counts every request, paced over time", arguments: servers)
    func requestRateCounts(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        // Spinning before each send changes how a lane waits, not what it sends or when.
        for (distribution, extra) in [("constant", []), ("poisson", []), ("constant", ["--async", "--spin-before-send", "200"])] {
            let before = try await server.successCount("identity_fp32")
            let (result, received, elapsed) = try await run(server, model: "identity_fp32",
                                                            ["--request-rate-range", "400", "--request-distribution", distribution,
                                                             "--request-count", "300"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("Request Rate: 400 inference requests per seconds"))
            let counted = try await server.successCount("identity_fp32") - before
            #expect(counted == 300, "\(distribution) \(extra): the server counted \(counted)")
            #expect(received.count == 300)
            #expect(reportedCount("Request count", in: result.stdout) == 300)
            // 300 sends at 400 per second take 0.75 s; a burst would take a fraction of that.
            #expect(elapsed > 0.7, "\(distribution) \(extra): 300 requests took only \(elapsed) s")
        }
    }

    @Test("streamed and compressed gRPC calls keep the schedule too", arguments: [["--streaming"], ["--grpc-compression-algorithm", "gzip"]])
    func grpcTaskSlots(extra: [String]) async throws {
        let server = try RecordingServer.start("sim-grpc")
        defer { server.stop() }
        let before = try await server.successCount("identity_fp32")
        let (result, _, elapsed) = try await run(server, model: "identity_fp32",
                                                 ["--request-rate-range", "400", "--request-count", "200", "--async"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try await server.successCount("identity_fp32") - before == 200)
        #expect(elapsed > 0.45, "200 requests at 400/s took only \(elapsed) s")
    }

    @Test("over measured windows, the server's count follows the rate", arguments: ["sim", "triton-grpc"])
    func requestRateWindows(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let (result, _, _) = try await run(server, model: "identity_fp32", ["--request-rate-range", "300", "-p", "1000", "-s", "50", "-r", "20"])
        #expect(result.status == 0, "\(result.stderr)")
        // The report's server section is the server's own count over the three measured windows.
        let served = reportedCount("Successful request count", in: result.stdout) ?? 0
        #expect(abs(served - 900) <= 45, "the server counted \(served) requests over three 1 s windows at 300/s")
        let throughput = result.stdout.split(separator: "\n").first { $0.contains("Throughput:") }
            .flatMap { Double($0.split(separator: " ")[1]) } ?? 0
        #expect(abs(throughput - 300) <= 15, "throughput \(throughput)")
        #expect(result.stdout.contains("    Send lag: p50 "))
        #expect(result.stdout.contains("Request Rate: 300, throughput: "))
    }

    @Test("an interval file is played in order and looped", arguments: ["sim", "triton-grpc"])
    func intervals(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let file = try temporaryFile("2000\n4000\n6000\n", suffix: ".txt")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("intervals-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let before = try await server.successCount("identity_fp32")
        let (result, _, elapsed) = try await run(server, model: "identity_fp32",
                                                 ["--request-intervals", file, "--request-count", "150", "-f", csv, "--verbose-csv"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try await server.successCount("identity_fp32") - before == 150)
        // 149 gaps of 4 ms on average.
        #expect(elapsed > 0.55, "150 requests took only \(elapsed) s")
        #expect(result.stdout.contains("Request Rate: 250, throughput: "))
        #expect(!result.stdout.contains("inference requests per seconds"))
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines[0].hasPrefix("Request Rate,Inferences/Second,"))
        #expect(lines[0].hasSuffix(",Send Lag p50,Send Lag p99,Send Lag Max,p50 latency from intended send,p99 latency from intended send,Client CPU Utilization,Client Run Queue Wait,Client Steal,Client Limited"))
        #expect(lines[1].hasPrefix("250,"))
    }

    @Test("concurrency mode: each slot plays its own sequences; the accumulator's sums validate", arguments: servers)
    func sequencesConcurrency(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let file = try temporaryFile(accumulatorStreams)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (result, received, _) = try await run(server, model: "sequence_accumulator",
                                                  ["--input-data", file, "--concurrency-range", "3", "--sequence-id-range", "100:103",
                                                   "--request-count", "40"])
        // Validation data holds the running sums: a wrong order or a missed START fails the run.
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Sequence count: "))
        let sequences = try serverSequences(received).get()
        #expect(sequences.count >= 13)
        for sequence in sequences {
            #expect((100..<103).contains(sequence.id))
            #expect([[1, 2, 3], [10, 20]].contains { $0.starts(with: sequence.values) } && !sequence.values.isEmpty,
                    "sequence \(sequence.id) played \(sequence.values)")
        }
        // Only the sequences live when the run ended (one per slot) close before their stream's end.
        #expect(sequences.filter { $0.values != [1, 2, 3] && $0.values != [10, 20] }.count <= 3)
    }

    @Test("--streaming: sequences validate over each slot's stream, each request carries its stream's next id, -H arrives",
          arguments: ["sim-grpc", "triton-grpc"])
    func sequencesOverStreams(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let file = try temporaryFile(accumulatorStreams)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (result, received, _) = try await run(server, model: "sequence_accumulator",
                                                  ["--streaming", "--input-data", file, "--concurrency-range", "3", "--sequence-id-range", "100:103",
                                                   "--request-count", "40", "-H", "X-Run-Tag: stream-e2e"])
        #expect(result.status == 0, "\(result.stderr)")
        let sequences = try serverSequences(received).get()
        #expect(sequences.count >= 13)
        for sequence in sequences {
            #expect([[1, 2, 3], [10, 20]].contains { $0.starts(with: sequence.values) } && !sequence.values.isEmpty,
                    "sequence \(sequence.id) played \(sequence.values)")
        }
        // Every slot numbers its requests 1, 2, 3, ...: id n is never sent more often than id n - 1.
        let ids = received.compactMap { ($0.request_id ?? $0.id).flatMap { Int($0) } }
        #expect(ids.count == received.count, "\(received.map { $0.request_id ?? $0.id ?? "none" })")
        var counts: [Int: Int] = [:]
        for id in ids { counts[id, default: 0] += 1 }
        #expect((counts[1] ?? 0) >= 1 && (counts[1] ?? 0) <= 3, "\(counts)")
        #expect(counts.allSatisfy { id, count in id == 1 || count <= counts[id - 1] ?? 0 }, "\(counts)")
        if kind == "sim-grpc" {
            #expect(received.allSatisfy { $0.headers?["x-run-tag"] == "stream-e2e" })
        }
    }

    @Test("request-rate mode: sequences with generated data run their length; the run closes every sequence", arguments: servers)
    func sequencesRate(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let (result, received, _) = try await run(server, model: "sequence_accumulator",
                                                  ["--request-rate-range", "300", "--num-of-sequences", "3", "--sequence-length", "4",
                                                   "--sequence-length-variation", "0", "--sequence-id-range", "7:10", "--request-count", "50"])
        #expect(result.status == 0, "\(result.stderr)")
        let sequences = try serverSequences(received).get()
        #expect(sequences.allSatisfy { (7..<10).contains($0.id) })
        // Every sequence runs 4 requests, but the ones cut by the end of the run, which close early.
        #expect(sequences.filter { $0.values.count != 4 }.count <= 3)
        #expect(received.count >= 50)
        #expect(sequences.allSatisfy { $0.values.count <= 4 && $0.ended })
    }

    @Test("--serial-sequences: the server never sees two requests of one sequence in flight")
    func serialSequences() async throws {
        // Each request takes 4 ms on the server: at 500/s over 2 sequences, requests of one
        // sequence would overlap unless the client waits.
        let server = try RecordingServer.start("sim", simulatorArguments: ["--delay-us", "4000", "--threads", "2"])
        defer { server.stop() }
        let common = ["--request-rate-range", "500", "--num-of-sequences", "2", "--sequence-length", "6", "--request-count", "120", "--async"]
        let (parallel, overlapping, _) = try await run(server, model: "sequence_accumulator", common)
        #expect(parallel.status == 0, "\(parallel.stderr)")
        // Without the flag the same load does overlap (so the check below can fail).
        #expect(overlapping.contains { ($0.sequence_in_flight ?? 0) > 0 })
        let (serial, received, _) = try await run(server, model: "sequence_accumulator", common + ["--serial-sequences"])
        #expect(serial.status == 0, "\(serial.stderr)")
        #expect(received.count >= 120)
        #expect(received.allSatisfy { $0.sequence_in_flight == 0 }, "\(received.compactMap(\.sequence_in_flight).max() ?? -1) in flight")
        _ = try serverSequences(received).get()
    }

    @Test("an ID range smaller than the live sequences is refused before any request", arguments: ["sim"])
    func idRangeTooSmall(kind: String) async throws {
        let server = try RecordingServer.start(kind)
        defer { server.stop() }
        let (result, received, _) = try await run(server, model: "sequence_accumulator",
                                                  ["--concurrency-range", "4", "--sequence-id-range", "5:7", "-p", "500"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--sequence-id-range 5:7 holds 2 correlation IDs, but 4 sequences run at once"))
        #expect(received.isEmpty)
    }
}
}
