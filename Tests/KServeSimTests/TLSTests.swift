import GRPCCore
import KServeGRPC
import KServeProtocol
import KServeSim
import NIOHTTP1
import Testing

@Suite("TLS")
struct TLSTests {
    @Test func httpsAndGRPCOverTLS() async throws {
        let tls = try TestCertificates.serverSettings()
        try await withGRPCSimulator(tls: tls, clientSecurity: try TestCertificates.grpcClientSecurity(withCertificate: false)) { context in
            var https = context.http
            https.tls = try TestCertificates.httpsClientContext(withCertificate: false)
            https.serverHostname = "localhost"
            let ready = try await https.get("/v2/health/ready")
            #expect(ready.status == .ok)
            let infer = try await https.infer("identity_fp32", InferRequest(
                parameters: ["binary_data_output": .bool(true)], binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))]))
            #expect(infer.status == .ok)
            #expect(floats(try #require(try infer.inferResponse().binaryOutputs["OUTPUT0"])) == sixteen)

            #expect(try await context.grpc.serverLive(Inference_ServerLiveRequest(), options: failFast()).live)
            let response = try await context.grpc.modelInfer(
                .raw(model: "identity_fp32", inputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))]), options: failFast())
            #expect(response.floats("OUTPUT0") == sixteen)

            // Plain HTTP on the TLS port gets no answer.
            await #expect(throws: (any Error).self) { try await context.http.get("/v2/health/ready") }
        }
    }

    @Test func mutualTLSAcceptsSignedClientsAndRefusesOthers() async throws {
        let tls = try TestCertificates.serverSettings(requireClientCertificate: true)
        try await withGRPCSimulator(tls: tls, clientSecurity: try TestCertificates.grpcClientSecurity(withCertificate: true)) { context in
            var signed = context.http
            signed.tls = try TestCertificates.httpsClientContext(withCertificate: true)
            signed.serverHostname = "localhost"
            #expect(try await signed.get("/v2/health/live").status == .ok)
            #expect(try await context.grpc.serverReady(Inference_ServerReadyRequest(), options: failFast()).ready)

            var anonymous = context.http
            anonymous.tls = try TestCertificates.httpsClientContext(withCertificate: false)
            anonymous.serverHostname = "localhost"
            await #expect(throws: (any Error).self) { try await anonymous.get("/v2/health/live") }

            let grpcPort = try #require(context.simulator.grpcPort)
            await #expect(throws: RPCError.self) {
                try await withInferenceClient(port: grpcPort, security: try TestCertificates.grpcClientSecurity(withCertificate: false)) { client in
                    try await client.serverLive(Inference_ServerLiveRequest(), options: failFast(seconds: 5))
                }
            }
        }
    }

    @Test func badTLSFilesAreStartErrorsNamingTheOption() async throws {
        let good = try TestCertificates.serverSettings()
        let cases: [(TLSSettings, TLSSettings.File, String)] = [
            (TLSSettings(certificatePath: "/nonexistent/server.pem", privateKeyPath: good.privateKeyPath), .certificate, "No such file"),
            (TLSSettings(certificatePath: good.privateKeyPath, privateKeyPath: good.privateKeyPath), .certificate, "not a valid PEM certificate"),
            (TLSSettings(certificatePath: good.certificatePath, privateKeyPath: good.certificatePath), .privateKey, "not a PEM private key"),
            (TLSSettings(certificatePath: good.certificatePath, privateKeyPath: try TestCertificates.path("client.key")), .privateKey, "belong together"),
            (TLSSettings(certificatePath: good.certificatePath, privateKeyPath: good.privateKeyPath, clientCAPath: "/"), .clientCA, "directory"),
        ]
        for (settings, file, reason) in cases {
            let simulator = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1, tls: settings))
            let error = await #expect(throws: SimulatorError.self) { try await simulator.start() }
            guard case .invalidTLSFile(let named, _, let why)? = error else {
                Issue.record("expected invalidTLSFile, got \(String(describing: error))")
                continue
            }
            #expect(named == file)
            #expect(why.contains(reason), "\(why)")
            #expect(simulator.httpPort == nil)
        }
    }
}
