import Foundation
import KServeProtocol
@testable import PerfAnalyzerKit

/// A server whose models record every request they receive: kserve-sim with --record,
/// or the Triton of scripts/test.sh.
struct RecordingServer {
    /// `-u` and, for gRPC, `-i grpc`.
    var address: [String]
    /// How many requests a model recorded so far.
    var recordedCount: (String) throws -> Int
    /// The requests a model recorded, from the given index on.
    var recordedFrom: (String, Int) throws -> [TritonEnvironment.RecordedRequest]
    /// The server's own count of successful requests for a model.
    var successCount: (String) async throws -> UInt64
    /// The server's HTTP address, for calls the test makes itself (whatever protocol the run uses).
    var httpURL: String
    var stop: () -> Void

    /// The requests a model recorded, from the `first`-th on (0: all of them).
    func recorded(_ model: String, from first: Int = 0) throws -> [TritonEnvironment.RecordedRequest] {
        try recordedFrom(model, first)
    }

    /// `kind`: sim or triton, with `-grpc` appended for gRPC.
    /// `simulatorArguments` go to kserve-sim (ignored for Triton).
    static func start(_ kind: String, simulatorArguments: [String] = []) throws -> RecordingServer {
        let grpc = kind.hasSuffix("-grpc")
        if kind.hasPrefix("triton") {
            let triton = try TritonEnvironment.current()
            return RecordingServer(address: grpc ? ["-i", "grpc", "-u", triton.grpcURL] : ["-u", triton.httpURL],
                                   recordedCount: { triton.recordedCount(model: $0) },
                                   recordedFrom: { try triton.recordedRequests(model: $0, from: $1) },
                                   successCount: { try await triton.statistics(model: $0).success },
                                   httpURL: triton.httpURL, stop: {})
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(UUID().uuidString).jsonl")
        let sim = try SimulatorProcess(arguments: ["--record", file.path] + simulatorArguments)
        // One file for every model, made for this test alone: small enough to decode whole.
        let recorded = { (model: String) throws -> [TritonEnvironment.RecordedRequest] in
            try TritonEnvironment.recordedRequests(in: file).filter { $0.model == model }
        }
        return RecordingServer(address: grpc ? ["-i", "grpc", "-u", sim.grpcURL] : ["-u", sim.url],
                               recordedCount: { try recorded($0).count },
                               recordedFrom: { Array(try recorded($0).dropFirst($1)) },
                               successCount: { try await sim.statistics(model: $0).inference_stats.success.count.value },
                               httpURL: sim.url, stop: {
            sim.stop()
            try? FileManager.default.removeItem(at: file)
        })
    }
}

/// Writes `text` to a temporary file and returns its path.
func temporaryFile(_ text: String, suffix: String = ".json") throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("input-\(UUID().uuidString)\(suffix)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

