import Foundation
import KServeProtocol
import NIOPosix
@testable import PerfAnalyzerKit

/// A real `kserve-sim` process on a free loopback port, stopped when the test is done.
final class SimulatorProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let output: Pipe

    init(arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: BuiltTools.kserveSim)
        process.arguments = ["--http-port", "0", "--threads", "1"] + arguments
        output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        // The simulator prints "kserve-sim: HTTP listening on 127.0.0.1:PORT" once it listens.
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let portText = text.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines),
              let port = Int(portText) else {
            process.terminate()
            throw SimulatorError(message: "kserve-sim did not report its port; it printed: \(text)")
        }
        self.port = port
    }

    var url: String { "127.0.0.1:\(port)" }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// The server's own statistics for one model.
    func statistics(model: String) async throws -> ModelStatistics {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connection = HTTPControlClient(group: group, address: ServerAddress(host: "127.0.0.1", port: port), headers: [])
        let stats = try await KServeHTTPClient(connection: connection).allStatistics()
        await connection.close()
        try await group.shutdownGracefully()
        guard let entry = stats.model_stats.first(where: { $0.name == model }) else {
            throw SimulatorError(message: "no statistics for \(model)")
        }
        return entry
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
