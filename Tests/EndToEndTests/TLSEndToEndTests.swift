import Foundation
import KServeProtocol
import Testing

/// Certificates from scripts/make-test-certificates.sh, made once per test process.
enum TestCertificates {
    private static let made: Result<String, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-certificates-\(getpid())").path
        let script = BuiltTools.repositoryRoot.appendingPathComponent("scripts/make-test-certificates.sh").path
        let result = try CommandRunner.run("/bin/bash", [script, directory], timeout: 60)
        guard result.status == 0 else { throw CertificateError(text: "\(script) failed: \(result.stderr)") }
        return directory
    }

    static func path(_ name: String) throws -> String { try made.get() + "/" + name }

    struct CertificateError: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }
}

/// TLS for both protocols against kserve-sim serving with the test certificates and
/// asking for a client certificate: success, and one clear line for each failure.
extension EndToEnd {
@Suite("TLS over HTTPS and gRPC")
struct TLSEndToEndTests {
    private func simulator(requireClientCertificate: Bool = true, certificate: String = "server") throws -> SimulatorProcess {
        var arguments = ["--tls-certificate-file", try TestCertificates.path("\(certificate).pem"),
                         "--tls-private-key-file", try TestCertificates.path("\(certificate).key")]
        if requireClientCertificate { arguments += ["--tls-client-ca-file", try TestCertificates.path("ca.pem")] }
        let sim = try SimulatorProcess(arguments: arguments)
        // The tests' own statistics calls present the client certificate and skip the name check
        // (the expired certificate's server is still asked for its counts).
        sim.statisticsTLS.verifyPeer = 0
        sim.statisticsTLS.clientCertificateFile = try TestCertificates.path("client.pem")
        sim.statisticsTLS.privateKeyFile = try TestCertificates.path("client.key")
        return sim
    }

    private func https(_ sim: SimulatorProcess, _ extra: [String]) async throws -> CommandResult {
        try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", sim.url, "--request-count", "30"] + extra, timeout: 60)
    }

    /// perf_analyzer's documented form: `--ssl-grpc-use-ssl` alone, the files after it.
    private func grpc(_ sim: SimulatorProcess, _ extra: [String]) async throws -> CommandResult {
        try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-i", "grpc", "-u", sim.grpcURL, "--request-count", "30",
                                                              "--ssl-grpc-use-ssl"] + extra, timeout: 60)
    }

    private func expectRefused(_ result: CommandResult, _ fragment: String, _ sim: SimulatorProcess) async throws {
        #expect(!result.timedOut)
        #expect(result.status != 0)
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 0)
    }

    @Test("HTTPS with mutual TLS, the client certificate in PEM and in DER")
    func httpsSuccess() async throws {
        let sim = try simulator()
        defer { sim.stop() }
        let pem = try await https(sim, ["--ssl-https-ca-certificates-file", try TestCertificates.path("ca.pem"),
                                        "--ssl-https-client-certificate-file", try TestCertificates.path("client.pem"),
                                        "--ssl-https-private-key-file", try TestCertificates.path("client.key")])
        #expect(pem.status == 0, "\(pem.stderr)")
        let der = try await https(sim, ["--ssl-https-ca-certificates-file", try TestCertificates.path("ca.pem"),
                                        "--ssl-https-client-certificate-file", try TestCertificates.path("client.der"),
                                        "--ssl-https-client-certificate-type", "DER",
                                        "--ssl-https-private-key-file", try TestCertificates.path("client-key.der"),
                                        "--ssl-https-private-key-type", "DER"])
        #expect(der.status == 0, "\(der.stderr)")
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 60)
    }

    @Test("gRPC over TLS with mutual TLS, unary and streaming")
    func grpcSuccess() async throws {
        let sim = try simulator()
        defer { sim.stop() }
        let identity = ["--ssl-grpc-root-certifications-file", try TestCertificates.path("ca.pem"),
                        "--ssl-grpc-certificate-chain-file", try TestCertificates.path("client.pem"),
                        "--ssl-grpc-private-key-file", try TestCertificates.path("client.key")]
        let unary = try await grpc(sim, identity)
        #expect(unary.status == 0, "\(unary.stderr)")
        let streaming = try await grpc(sim, identity + ["--streaming"])
        #expect(streaming.status == 0, "\(streaming.stderr)")
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 60)
    }

    @Test("a CA that did not sign the server's certificate: one line, nothing sent")
    func wrongCA() async throws {
        let sim = try simulator(requireClientCertificate: false)
        defer { sim.stop() }
        try await expectRefused(try https(sim, ["--ssl-https-ca-certificates-file", try TestCertificates.path("other-ca.pem")]),
                                "certificate was not accepted", sim)
        try await expectRefused(try grpc(sim, ["--ssl-grpc-root-certifications-file", try TestCertificates.path("other-ca.pem")]),
                                "certificate was not accepted", sim)
    }

    @Test("no client certificate when the server asks for one: one line, nothing sent")
    func missingClientCertificate() async throws {
        let sim = try simulator()
        defer { sim.stop() }
        try await expectRefused(try https(sim, ["--ssl-https-ca-certificates-file", try TestCertificates.path("ca.pem")]),
                                "TLS with", sim)
        try await expectRefused(try grpc(sim, ["--ssl-grpc-root-certifications-file", try TestCertificates.path("ca.pem")]),
                                "TLS with", sim)
    }

    @Test("an expired server certificate: one line, nothing sent")
    func expiredServerCertificate() async throws {
        let sim = try simulator(requireClientCertificate: false, certificate: "expired-server")
        defer { sim.stop() }
        try await expectRefused(try https(sim, ["--ssl-https-ca-certificates-file", try TestCertificates.path("ca.pem")]),
                                "certificate was not accepted", sim)
    }

    @Test("a missing or unreadable key file is named by its flag before any connection")
    func badFiles() async throws {
        let sim = try simulator()
        defer { sim.stop() }
        try await expectRefused(try https(sim, ["--ssl-https-client-certificate-file", try TestCertificates.path("client.pem"),
                                                "--ssl-https-private-key-file", "/no/such/key.pem"]),
                                "--ssl-https-private-key-file /no/such/key.pem: no such file", sim)
        try await expectRefused(try grpc(sim, ["--ssl-grpc-root-certifications-file", try TestCertificates.path("client.key")]),
                                "--ssl-grpc-root-certifications-file", sim)
    }
}
}
