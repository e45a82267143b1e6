import Testing
@testable import PerfAnalyzerKit

private func resolve(_ arguments: [String]) throws -> PerfAnalyzerOptions {
    try PerfAnalyzerCommand.parse(["-m", "m"] + arguments).resolve()
}

@Suite("Command line: gRPC, streaming and TLS")
struct TransportOptionTests {
    @Test("-i grpc defaults to localhost:8001; streaming and compression are gRPC's")
    func grpcDefaults() throws {
        let options = try resolve(["-i", "gRPC", "--streaming", "--grpc-compression-algorithm", "gzip"])
        #expect(options.wireProtocol == .grpc)
        #expect(options.url == "localhost:8001")
        #expect(options.streaming)
        #expect(options.grpcCompression == .gzip)
        #expect(options.grpcTLS == nil)
    }

    @Test("TLS flags land in the options")
    func tlsOptions() throws {
        let grpc = try resolve(["-i", "grpc", "--ssl-grpc-use-ssl", "true", "--ssl-grpc-root-certifications-file", "ca.pem",
                                "--ssl-grpc-private-key-file", "k.pem", "--ssl-grpc-certificate-chain-file", "c.pem"])
        #expect(grpc.grpcTLS == GRPCTLSOptions(rootCertificatesFile: "ca.pem", privateKeyFile: "k.pem", certificateChainFile: "c.pem"))
        let https = try resolve(["-u", "https://localhost:8443", "--ssl-https-verify-peer", "0", "--ssl-https-verify-host", "0",
                                 "--ssl-https-client-certificate-file", "c.der", "--ssl-https-client-certificate-type", "DER",
                                 "--ssl-https-private-key-file", "k.der", "--ssl-https-private-key-type", "der"])
        #expect(https.httpsTLS.verifyPeer == 0)
        #expect(https.httpsTLS.verifyHost == 0)
        #expect(https.httpsTLS.clientCertificateType == .der)
        #expect(https.httpsTLS.privateKeyType == .der)
        let address = try ServerAddress(parsing: https.url, defaultPort: 8000)
        #expect(address == ServerAddress(host: "localhost", port: 8443, usesTLS: true))
    }

    @Test("flags of the other protocol, or without what they need, are refused by name", arguments: [
        (["--streaming"], "--streaming: streaming needs -i grpc"),
        (["--grpc-compression-algorithm", "gzip"], "--grpc-compression-algorithm: compression needs -i grpc"),
        (["--ssl-grpc-use-ssl", "true"], "--ssl-grpc-use-ssl: applies to -i grpc"),
        (["-i", "grpc", "--ssl-grpc-use-ssl", "maybe"], "--ssl-grpc-use-ssl maybe: expected true or false"),
        (["-i", "grpc", "--ssl-grpc-root-certifications-file", "ca.pem"], "--ssl-grpc-root-certifications-file: needs --ssl-grpc-use-ssl true"),
        (["-i", "grpc", "--ssl-grpc-use-ssl", "true", "--ssl-grpc-private-key-file", "k.pem"], "mutual TLS needs both"),
        (["-i", "grpc", "-u", "https://h:1"], "gRPC takes host:port"),
        (["--ssl-https-verify-peer", "0"], "these need an https:// URL"),
        (["-u", "https://h:1", "--ssl-https-verify-host", "3"], "--ssl-https-verify-host 3: expected 0, 1 or 2"),
        (["-i", "grpc", "--ssl-https-verify-peer", "0"], "these apply to -i http"),
    ])
    func refusals(arguments: [String], fragment: String) throws {
        #expect {
            _ = try resolve(arguments)
        } throws: { error in
            "\(error)".contains(fragment)
        }
    }

    @Test("--ssl-grpc-use-ssl alone, as perf_analyzer documents it, or with a value")
    func bareUseSSL() throws {
        #expect(CommandLineSpelling.normalized(["-i", "grpc", "--ssl-grpc-use-ssl", "--ssl-grpc-root-certifications-file", "ca.pem"])
                == ["-i", "grpc", "--ssl-grpc-use-ssl", "true", "--ssl-grpc-root-certifications-file", "ca.pem"])
        #expect(CommandLineSpelling.normalized(["-i", "grpc", "--ssl-grpc-use-ssl"]) == ["-i", "grpc", "--ssl-grpc-use-ssl", "true"])
        #expect(CommandLineSpelling.normalized(["--ssl-grpc-use-ssl", "FALSE"]) == ["--ssl-grpc-use-ssl", "FALSE"])
        #expect(CommandLineSpelling.normalized(["--", "--ssl-grpc-use-ssl"]) == ["--", "--ssl-grpc-use-ssl"])
        let options = try PerfAnalyzerCommand.parse(CommandLineSpelling.normalized(["-m", "m", "-i", "grpc", "--ssl-grpc-use-ssl"])).resolve()
        #expect(options.grpcTLS != nil)
    }

    @Test("no help line prints its default twice")
    func helpDefaultsOnce() {
        let help = PerfAnalyzerCommand.helpMessage(columns: 1000)
        for line in help.split(separator: "\n") {
            #expect(line.components(separatedBy: "(default:").count <= 2, "\(line)")
        }
    }

    @Test("a server named by a loopback address is on this machine: the load leaves it a core unless --max-threads says otherwise")
    func serverOnThisMachine() throws {
        for url in ["localhost:8000", "127.0.0.1:8001", "http://127.0.0.2:80/prefix", "https://localhost", "[::1]:8000"] {
            #expect(PerfAnalyzerRun.serverIsOnThisMachine(url), "\(url)")
        }
        for url in ["10.0.0.5:8000", "server:8000", "https://example.com/v2", "[fe80::1]:8000", "localhost.example.com:1"] {
            #expect(!PerfAnalyzerRun.serverIsOnThisMachine(url), "\(url)")
        }
        let cores = UsableCores.count
        let local = PerfAnalyzerRun(options: try PerfAnalyzerCommand.parse(["-m", "m", "-u", "127.0.0.1:8000", "--concurrency-range", "64"]).resolve(),
                                    err: { _ in })
        #expect(local.loadThreads() == max(1, cores - 1))
        let given = PerfAnalyzerRun(options: try PerfAnalyzerCommand.parse(["-m", "m", "-u", "127.0.0.1:8000", "--concurrency-range", "64",
                                                                            "--max-threads", "16"]).resolve(), err: { _ in })
        #expect(given.loadThreads() == cores)
        let remote = PerfAnalyzerRun(options: try PerfAnalyzerCommand.parse(["-m", "m", "-u", "10.1.2.3:8000", "--concurrency-range", "64"]).resolve(),
                                     err: { _ in })
        #expect(remote.loadThreads() == min(cores, 4))
    }
}
