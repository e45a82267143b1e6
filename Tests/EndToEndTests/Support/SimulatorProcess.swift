import Foundation
import KServeProtocol
import NIOPosix
@testable import PerfAnalyzerKit

/// A real `kserve-sim` process on a free loopback port, stopped when the test is done.
final class SimulatorProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let output: Pipe

    /// The gRPC port, and whether both listeners speak TLS.
    let grpcPort: Int
    let usesTLS: Bool
    /// The metrics port, when started with `--metrics-port`.
    let metricsPort: Int?

    init(arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: BuiltTools.kserveSim)
        process.arguments = ["--http-port", "0", "--grpc-port", "0", "--threads", "1"] + arguments
        output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        // The simulator prints "kserve-sim: HTTP listening on 127.0.0.1:PORT", then the same
        // for gRPC ("HTTPS" and "gRPC+TLS" with TLS), then for metrics if asked, once it listens.
        let expectedLines = arguments.contains("--metrics-port") ? 3 : 2
        var lines = Data()
        let handle = output.fileHandleForReading
        while lines.filter({ $0 == UInt8(ascii: "\n") }).count < expectedLines {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            lines.append(chunk)
        }
        let text = String(decoding: lines, as: UTF8.self)
        let ports = text.split(separator: "\n").compactMap { line in
            line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        guard ports.count == expectedLines else {
            process.terminate()
            throw SimulatorError(message: "kserve-sim did not report its ports; it printed: \(text)")
        }
        port = ports[0]
        grpcPort = ports[1]
        metricsPort = expectedLines == 3 ? ports[2] : nil
        usesTLS = text.contains("HTTPS listening")
    }

    var grpcURL: String { "127.0.0.1:\(grpcPort)" }

    var url: String { usesTLS ? "https://127.0.0.1:\(port)" : "127.0.0.1:\(port)" }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        // Bounded: Foundation's Process now and then misses a child's exit (it stays a zombie
        // and waitUntilExit() never returns).
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    deinit { stop() }

    /// The server's own statistics for one model.
    /// TLS settings for `statistics` when the simulator serves HTTPS (with a client certificate when it asks for one).
    var statisticsTLS = HTTPSTLSOptions()

    func statistics(model: String) async throws -> ModelStatistics {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let address = ServerAddress(host: "127.0.0.1", port: port, usesTLS: usesTLS)
        let connection = HTTPControlClient(group: group, address: address, headers: [],
                                           tls: try ClientTLS.forHTTPS(statisticsTLS, address: address))
        let stats = try await KServeHTTPClient(connection: connection).allStatistics()
        await connection.close()
        try await group.shutdownGracefully()
        guard let entry = stats.model_stats.first(where: { $0.name == model }) else {
            throw SimulatorError(message: "no statistics for \(model)")
        }
        return entry
    }

    /// `--metrics-url` for the simulator's metrics endpoint.
    var metricsURL: String { "127.0.0.1:\(metricsPort ?? 0)/metrics" }

    /// How many times the metrics page was read before this call (which reads it once more).
    func metricsReads() async throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connection = HTTPControlClient(group: group, address: ServerAddress(host: "127.0.0.1", port: metricsPort ?? 0), headers: [])
        let response = try await connection.get("/metrics")
        await connection.close()
        try await group.shutdownGracefully()
        guard response.status == 200,
              let count = try PrometheusText.parse(response.text).first(where: { $0.name == "kserve_sim_metrics_reads_total" }) else {
            throw SimulatorError(message: "no read count in the metrics page: \(response.status) \(response.text)")
        }
        return Int(count.value) - 1
    }

    struct SimulatorError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// Pulls `label: N usec` figures out of the console report.
func reportedMicroseconds(_ label: String, in text: String) -> UInt64? {
    guard let range = text.range(of: label + ": ") else { return nil }
    return UInt64(text[range.upperBound...].prefix { $0.isNumber })
}

func reportedCount(_ label: String, in text: String) -> Int? {
    reportedMicroseconds(label, in: text).map(Int.init)
}
