import Foundation
import Testing

/// `--fault`, `--fault-after` and `--fault-delay-ms` on the `kserve-sim` binary (see ``CommandLineTests``).
@Suite("kserve-sim fault options")
struct FaultCommandLineTests {
    @Test func namesTheFaultOnStderrAndKeepsTheListeningLines() async throws {
        let server = try CommandLineTests.launch(["--http-port", "0", "--grpc-port", "0", "--threads", "1",
                                                  "--fault", "stall", "--fault-after", "2"])
        let announced = CommandLineTests.lines(server.stdout, count: 2)
        let port = try #require(CommandLineTests.port(in: announced.first, after: "kserve-sim: HTTP listening on 127.0.0.1:"),
                                "got \(announced)")
        #expect(CommandLineTests.port(in: announced.last, after: "kserve-sim: gRPC listening on 127.0.0.1:") != nil, "got \(announced)")
        #expect(CommandLineTests.firstLine(server.stderr)
                == "kserve-sim: fault stall: inference requests after the first 2 are never answered (HTTP and gRPC)")
        #expect(try await rawExchange(port: port, TestRequest(path: "/v2/health/live")).status == 200)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(ChildExit.wait(server.process) == .init(code: 0, signal: nil))
    }

    @Test(arguments: [
        (["--fault", "sideways"], "The value 'sideways' is invalid for '--fault <mode>'. Please provide one of the following: "
         + "silent, stall, garbage, wrong-shape, short-body, slow-bytes, stream-error, stream-cut, too-many-requests (see kserve-sim --help)"),
        (["--fault", "stall", "--fault-after=-1"], "--fault-after must not be negative"),
        (["--fault", "slow-bytes", "--fault-delay-ms=-5"], "--fault-delay-ms must be in 0...3600000"),
        (["--fault", "slow-bytes", "--fault-delay-ms", "9223372036854775807"], "--fault-delay-ms must be in 0...3600000"),
        (["--fault", "silent", "--fault-after", "2"], "--fault-after does not apply to --fault silent"),
        (["--fault-after", "2"], "--fault-after and --fault-delay-ms need --fault"),
        (["--fault", "garbage", "--fault-delay-ms", "50"], "--fault-delay-ms applies to --fault slow-bytes only"),
    ])
    func badFaultValueIsOneLineAndAFailingExit(_ flags: [String], _ expected: String) throws {
        let server = try CommandLineTests.launch(["--http-port", "0", "--grpc-port", "0"] + flags)
        let ended = ChildExit.wait(server.process)
        #expect(ended?.signal == nil && ended?.code != nil && ended?.code != 0, "ended: \(String(describing: ended))")
        let complaint = String(decoding: server.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(complaint.split(separator: "\n").count == 1, "\(complaint)")
        #expect(complaint.hasPrefix("kserve-sim: ") && complaint.contains(expected), "\(complaint)")
        #expect(server.stdout.fileHandleForReading.readDataToEndOfFile().isEmpty, "nothing listened")
    }
}
