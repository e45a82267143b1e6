import Foundation
import KServeProtocol
import NIOPosix
@testable import PerfAnalyzerKit

/// The Triton server that scripts/test.sh installed and started for this test run.
/// Without it the Triton tests fail (they never skip): run them through scripts/test.sh.
struct TritonEnvironment {
    let httpURL: String
    let grpcURL: String
    let recordDirectory: URL
    let referencePerfAnalyzer: String

    struct Missing: Error, CustomStringConvertible {
        var variable: String
        var description: String {
            "\(variable) is not set: the Triton tests need the server that scripts/test.sh installs and starts; run the suite with scripts/test.sh"
        }
    }

    static func current() throws -> TritonEnvironment {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else { throw Missing(variable: name) }
            return value
        }
        return TritonEnvironment(httpURL: try value("TRITON_HTTP_URL"), grpcURL: try value("TRITON_GRPC_URL"),
                                 recordDirectory: URL(fileURLWithPath: try value("TRITON_RECORD_DIR")),
                                 referencePerfAnalyzer: try value("PERF_ANALYZER_REFERENCE"))
    }

    /// Triton's metrics endpoint, host:port (scripts/test.sh exports TRITON_METRICS_URL).
    static func metricsURL() throws -> String {
        guard let value = ProcessInfo.processInfo.environment["TRITON_METRICS_URL"], !value.isEmpty else {
            throw Missing(variable: "TRITON_METRICS_URL")
        }
        return value
    }

    /// Triton's own statistics for one model (summed over versions).
    func statistics(model: String) async throws -> (success: UInt64, inferences: UInt64) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let address = try ServerAddress(parsing: httpURL, defaultPort: 8000)
        let connection = HTTPControlClient(group: group, address: address, headers: [])
        let stats = try await KServeHTTPClient(connection: connection).allStatistics()
        await connection.close()
        try await group.shutdownGracefully()
        let entries = stats.model_stats.filter { $0.name == model }
        return (entries.reduce(0) { $0 + $1.inference_stats.success.count.value },
                entries.reduce(0) { $0 + $1.inference_count.value })
    }

    /// Triton may count a request a moment after answering it: poll until the count is reached.
    func waitForSuccessCount(model: String, atLeast wanted: UInt64) async throws -> (success: UInt64, inferences: UInt64) {
        var latest = try await statistics(model: model)
        for _ in 0..<40 where latest.success < wanted {
            try await Task.sleep(nanoseconds: 50_000_000)
            latest = try await statistics(model: model)
        }
        return latest
    }

    /// One recorded request: what the model received.
    struct RecordedRequest: Decodable {
        struct Input: Decodable {
            var name: String
            var datatype: String
            var shape: [Int64]
            var data: [JSONValue]?
            var data_base64: [String]?
            /// kserve-sim: the region the input was read from, when it came through shared memory.
            var shared_memory_region: String?
        }
        var model: String
        /// The request id the client sent ("" when none).
        var request_id: String?
        /// kserve-sim's name for it.
        var id: String?
        var inputs: [Input]
        /// Only kserve-sim records headers.
        var headers: [String: String]?
        /// Triton: the correlation ID and flags the sequence batcher saw.
        var correlation_id: JSONValue?
        var sequence_start: Bool?
        var sequence_end: Bool?
        /// kserve-sim: the request's parameters as sent.
        var parameters: JSONValue?
        /// kserve-sim: other requests of the same sequence in flight when this one arrived.
        var sequence_in_flight: Int?
        /// kserve-sim: when the request was recorded (monotonic ns).
        var time_ns: UInt64?

        /// The sequence the server put the request in (ID, START, END), from either server's record.
        var sequence: (id: UInt64, start: Bool, end: Bool)? {
            if let id = correlation_id?.uint64Value, id != 0 {
                return (id, sequence_start ?? false, sequence_end ?? false)
            }
            guard let parameters, let id = parameters["sequence_id"]?.uint64Value else { return nil }
            return (id, parameters["sequence_start"]?.boolValue ?? false, parameters["sequence_end"]?.boolValue ?? false)
        }

        /// The first value of an input (for the one-element tensors of the sequence tests).
        func firstValue(of input: String) -> Int64? {
            inputs.first { $0.name == input }?.data?.first?.int64Value
        }
    }

    /// How many requests the model recorded so far: its record's lines, counted without decoding them.
    func recordedCount(model: String) -> Int {
        Self.recordLines(in: recordFile(model)).lines.count
    }

    /// The requests the model recorded, from the `first`-th on (the models append one JSON line per
    /// request). Only those lines are decoded: the record of a model that every suite uses reaches
    /// hundreds of thousands of lines, and decoding all of them for each test took minutes.
    func recordedRequests(model: String, from first: Int = 0) throws -> [RecordedRequest] {
        try Self.recordedRequests(in: recordFile(model), from: first)
    }

    private func recordFile(_ model: String) -> URL {
        recordDirectory.appendingPathComponent("\(model).jsonl")
    }

    /// The requests of a record file (Triton's recording models, kserve-sim's `--record`), one
    /// JSON line each, from the `first`-th on; none when there is no file.
    static func recordedRequests(in file: URL, from first: Int = 0) throws -> [RecordedRequest] {
        let (data, lines) = recordLines(in: file)
        let decoder = JSONDecoder()
        return try lines.dropFirst(first).map { try decoder.decode(RecordedRequest.self, from: data.subdata(in: $0)) }
    }

    /// A record file's bytes and the ranges of its non-empty lines (none when there is no file).
    private static func recordLines(in file: URL) -> (data: Data, lines: [Range<Int>]) {
        guard let data = try? Data(contentsOf: file) else { return (Data(), []) }
        let lines = data.withUnsafeBytes { raw -> [Range<Int>] in
            guard let base = raw.baseAddress else { return [] }
            var lines: [Range<Int>] = []
            var start = 0
            while start < raw.count {
                let end = memchr(base + start, 0x0A, raw.count - start).map { base.distance(to: UnsafeRawPointer($0)) } ?? raw.count
                if end > start { lines.append(start..<end) }
                start = end + 1
            }
            return lines
        }
        return (data, lines)
    }
}
