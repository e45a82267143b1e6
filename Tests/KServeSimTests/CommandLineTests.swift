import Foundation
import NIOHTTP1
import Testing

/// The `kserve-sim` binary built next to this test bundle, when the build made one.
private let simulatorBinary: URL? = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let candidates = [executable.deletingLastPathComponent(), Bundle.main.bundleURL,
                      Bundle.main.bundleURL.deletingLastPathComponent()]
        .map { $0.appendingPathComponent("kserve-sim") }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
}()

/// Fails (never skips) when the binary is missing: `swift build` puts it beside the tests.
struct MissingSimulatorBinary: Error, CustomStringConvertible {
    var description: String { "kserve-sim was not found next to the test bundle; build it with swift build first" }
}

@Suite("kserve-sim command line")
struct CommandLineTests {
    struct Launched {
        var process: Process
        var stdout: Pipe
        var stderr: Pipe
    }

    static func launch(_ arguments: [String]) throws -> Launched {
        let process = Process()
        guard let binary = simulatorBinary else { throw MissingSimulatorBinary() }
        process.executableURL = binary
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Never let a stuck child hang the test run.
        let watched = process
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) { if watched.isRunning { watched.terminate() } }
        return Launched(process: process, stdout: stdout, stderr: stderr)
    }

    /// Reads stdout up to the first newline (or end of file).
    static func firstLine(_ pipe: Pipe) -> String {
        var collected = Data()
        while !collected.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            collected.append(chunk)
        }
        return String(decoding: collected, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    }

    @Test func announcesPortServesAndStopsOnSIGTERM() async throws {
        let server = try Self.launch(["--http-port", "0", "--threads", "1", "--grpc-port", "0"])
        let line = Self.firstLine(server.stdout)
        let prefix = "kserve-sim: HTTP listening on 127.0.0.1:"
        #expect(line.hasPrefix(prefix), "got '\(line)'")
        let port = try #require(Int(line.dropFirst(prefix.count)))
        #expect(port > 0)
        #expect(try await TestClient(port: port).get("/v2/health/live").status == .ok)

        // A second server on the same port: one line on stderr, exit status 1.
        let clash = try Self.launch(["--http-port", String(port)])
        clash.process.waitUntilExit()
        #expect(clash.process.terminationStatus == 1)
        let complaint = String(decoding: clash.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(complaint.contains("already in use"))
        #expect(complaint.split(separator: "\n").count == 1)
        #expect(clash.stdout.fileHandleForReading.readDataToEndOfFile().isEmpty)

        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0)
    }

    @Test func rejectsBadOptions() throws {
        let bad = try Self.launch(["--delay-us", "-5"])
        bad.process.waitUntilExit()
        #expect(bad.process.terminationStatus != 0)
        #expect(Self.firstLine(bad.stdout).isEmpty)
    }
}
