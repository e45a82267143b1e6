import Foundation
import GRPCNIOTransportHTTP2
import KServeSim
import NIOSSL

/// The certificates of scripts/make-test-certificates.sh, made once per test
/// process in a folder of its own (so concurrent test runs never mix sets).
enum TestCertificates {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // KServeSimTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
        .appendingPathComponent("scripts/make-test-certificates.sh").path

    private static let made: Result<String, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kserve-sim-test-certificates-\(getpid())").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", script, directory]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestClientError("\(script) failed (\(process.terminationStatus)): \(String(decoding: complaint, as: UTF8.self))")
        }
        return directory
    }

    /// The path of one of the script's files (e.g. "server.pem"), making the set on first use.
    static func path(_ name: String) throws -> String {
        try made.get() + "/" + name
    }

    static func serverSettings(requireClientCertificate: Bool = false) throws -> TLSSettings {
        TLSSettings(certificatePath: try path("server.pem"), privateKeyPath: try path("server.key"),
                    clientCAPath: requireClientCertificate ? try path("ca.pem") : nil)
    }

    /// An HTTPS client context trusting the test CA, optionally presenting the test client certificate.
    static func httpsClientContext(withCertificate: Bool) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(try path("ca.pem")))
        if withCertificate {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(try path("client.pem")).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: try path("client.key"), format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// gRPC client security trusting the test CA, optionally presenting the test client certificate.
    static func grpcClientSecurity(withCertificate: Bool) throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        let caPath = try path("ca.pem")
        let certificatePath = try path("client.pem")
        let keyPath = try path("client.key")
        return .tls { tls in
            tls.trustRoots = .certificates([.file(path: caPath, format: .pem)])
            if withCertificate {
                tls.certificateChain = [.file(path: certificatePath, format: .pem)]
                tls.privateKey = .file(path: keyPath, format: .pem)
            }
        }
    }
}
