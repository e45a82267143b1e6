import Foundation
import KServeGRPC
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
        // Never let a stuck child hang the test run. Generous: a test here can wait minutes for a
        // thread while the full suite runs on two cores (CI once waited two), and a watchdog that
        // ends the server mid-test fails it.
        let watched = process
        DispatchQueue.global().asyncAfter(deadline: .now() + 600) { if watched.isRunning { watched.terminate() } }
        return Launched(process: process, stdout: stdout, stderr: stderr)
    }

    /// Reads stdout up to the first newline (or end of file).
    static func firstLine(_ pipe: Pipe) -> String {
        lines(pipe, count: 1).first ?? ""
    }

    /// Reads stdout until it has `count` complete lines (or end of file).
    static func lines(_ pipe: Pipe, count: Int) -> [String] {
        var collected = Data()
        while collected.filter({ $0 == UInt8(ascii: "\n") }).count < count {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            collected.append(chunk)
        }
        return String(decoding: collected, as: UTF8.self).split(separator: "\n").prefix(count).map(String.init)
    }

    /// The port at the end of a "kserve-sim: ... listening on 127.0.0.1:PORT" line with that prefix.
    static func port(in line: String?, after prefix: String) -> Int? {
        guard let line, line.hasPrefix(prefix) else { return nil }
        return Int(line.dropFirst(prefix.count))
    }

    @Test func announcesPortServesAndStopsOnSIGTERM() async throws {
        let server = try Self.launch(["--http-port", "0", "--threads", "1", "--grpc-port", "0"])
        let announced = Self.lines(server.stdout, count: 2)
        let port = try #require(Self.port(in: announced.first, after: "kserve-sim: HTTP listening on 127.0.0.1:"), "got \(announced)")
        #expect(port > 0)
        #expect(try await TestClient(port: port).get("/v2/health/live").status == .ok)
        let grpcPort = try #require(Self.port(in: announced.last, after: "kserve-sim: gRPC listening on 127.0.0.1:"), "got \(announced)")
        #expect(grpcPort > 0 && grpcPort != port)
        // A long deadline: a freshly started debug server, with the whole suite sharing two
        // cores, once took over 10 s to answer its first RPC (the answer, not its speed, is tested).
        let live = try await withInferenceClient(port: grpcPort) { client in
            try await client.serverLive(Inference_ServerLiveRequest(), options: failFast(seconds: 60)).live
        }
        #expect(live)

        // A second server on the same port: one line on stderr, exit status 1.
        let clash = try Self.launch(["--http-port", String(port)])
        #expect(ChildExit.wait(clash.process) == .init(code: 1, signal: nil))
        let complaint = String(decoding: clash.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(complaint.contains("already in use"))
        #expect(complaint.split(separator: "\n").count == 1)
        #expect(clash.stdout.fileHandleForReading.readDataToEndOfFile().isEmpty)

        kill(server.process.processIdentifier, SIGTERM)
        #expect(ChildExit.wait(server.process) == .init(code: 0, signal: nil))
    }

    @Test func tlsListenersSayTheySecureTheirTraffic() async throws {
        let server = try Self.launch(["--http-port", "0", "--grpc-port", "0", "--threads", "1",
                                      "--tls-certificate-file", try TestCertificates.path("server.pem"),
                                      "--tls-private-key-file", try TestCertificates.path("server.key")])
        let announced = Self.lines(server.stdout, count: 2)
        let port = try #require(Self.port(in: announced.first, after: "kserve-sim: HTTPS listening on 127.0.0.1:"), "got \(announced)")
        let grpcPort = try #require(Self.port(in: announced.last, after: "kserve-sim: gRPC+TLS listening on 127.0.0.1:"), "got \(announced)")
        var https = TestClient(port: port)
        https.tls = try TestCertificates.httpsClientContext(withCertificate: false)
        #expect(try await https.get("/v2/health/ready").status == .ok)
        // A long deadline, as in the test above: a freshly started server's first RPC.
        let live = try await withInferenceClient(port: grpcPort, security: try TestCertificates.grpcClientSecurity(withCertificate: false)) { client in
            try await client.serverLive(Inference_ServerLiveRequest(), options: failFast(seconds: 60)).live
        }
        #expect(live)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(ChildExit.wait(server.process) == .init(code: 0, signal: nil))
    }

    @Test(arguments: [
        (["--tls-certificate-file", "/nonexistent/server.pem", "--tls-private-key-file", "server.key"],
         "--tls-certificate-file '/nonexistent/server.pem': No such file or directory"),
        (["--tls-certificate-file", "server.key", "--tls-private-key-file", "server.key"],
         "--tls-certificate-file 'DIR/server.key': not a valid PEM certificate"),
        (["--tls-certificate-file", "server.pem", "--tls-private-key-file", "ca.pem"],
         "--tls-private-key-file 'DIR/ca.pem': not a PEM private key"),
        (["--tls-certificate-file", "server.pem", "--tls-private-key-file", "server.key", "--tls-client-ca-file", "/nonexistent/ca.pem"],
         "--tls-client-ca-file '/nonexistent/ca.pem': No such file or directory"),
    ])
    func badTLSFileIsOneLineAndExitStatusOne(_ flags: [String], _ expected: String) throws {
        let directory = try TestCertificates.path("")
        // Bare names are files the certificate script made.
        let arguments = flags.map { $0.hasPrefix("-") || $0.hasPrefix("/") ? $0 : directory + $0 }
        let server = try Self.launch(["--http-port", "0", "--grpc-port", "0"] + arguments)
        #expect(ChildExit.wait(server.process) == .init(code: 1, signal: nil))
        let complaint = String(decoding: server.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(complaint.split(separator: "\n").count == 1, "\(complaint)")
        #expect(complaint.contains(expected.replacingOccurrences(of: "DIR/", with: directory)), "\(complaint)")
        #expect(server.stdout.fileHandleForReading.readDataToEndOfFile().isEmpty, "nothing listened")
    }

    @Test func rejectsBadOptions() throws {
        let bad = try Self.launch(["--delay-us", "-5"])
        let ended = ChildExit.wait(bad.process)
        #expect(ended != nil && ended?.code != 0)
        #expect(Self.firstLine(bad.stdout).isEmpty)
    }
}
