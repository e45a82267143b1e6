extension PerfAnalyzerCommand.Server {
    /// Streaming, compression and TLS flags, checked against the protocol and URL they need.
    func resolveTransport(into options: inout PerfAnalyzerOptions) throws(OptionError) {
        let isGRPC = options.wireProtocol == .grpc
        let isHTTPS = options.url.lowercased().hasPrefix("https://")

        if streaming {
            // The C API streams too: a decoupled model answers through the same callback.
            guard isGRPC || options.tritonCAPI != nil else { throw OptionError("--streaming: streaming needs -i grpc") }
            options.streaming = true
        }
        if let value = grpcCompressionAlgorithm {
            guard isGRPC else { throw OptionError("--grpc-compression-algorithm: compression needs -i grpc") }
            options.grpcCompression = value
        }

        let grpcFiles: [(String, String?)] = [
            ("--ssl-grpc-root-certifications-file", sslGrpcRootCertificationsFile),
            ("--ssl-grpc-private-key-file", sslGrpcPrivateKeyFile),
            ("--ssl-grpc-certificate-chain-file", sslGrpcCertificateChainFile),
        ]
        var useSSL = false
        if let text = sslGrpcUseSsl {
            switch text.lowercased() {
            case "true", "1", "yes", "on": useSSL = true
            case "false", "0", "no", "off": useSSL = false
            default: throw OptionError("--ssl-grpc-use-ssl \(text): expected true or false")
            }
        }
        if !isGRPC, let given = grpcFiles.first(where: { $0.1 != nil })?.0 ?? (useSSL ? "--ssl-grpc-use-ssl" : nil) {
            throw OptionError("\(given): applies to -i grpc; for HTTP use an https:// URL and the --ssl-https-* flags")
        }
        if isGRPC {
            if isHTTPS || options.url.lowercased().hasPrefix("http://") {
                throw OptionError("-u \(options.url): gRPC takes host:port (use --ssl-grpc-use-ssl true for TLS)")
            }
            if !useSSL, let given = grpcFiles.first(where: { $0.1 != nil })?.0 {
                throw OptionError("\(given): needs --ssl-grpc-use-ssl true")
            }
            if (sslGrpcPrivateKeyFile == nil) != (sslGrpcCertificateChainFile == nil) {
                throw OptionError("--ssl-grpc-private-key-file and --ssl-grpc-certificate-chain-file go together (mutual TLS needs both)")
            }
            if useSSL {
                options.grpcTLS = GRPCTLSOptions(rootCertificatesFile: sslGrpcRootCertificationsFile,
                                                 privateKeyFile: sslGrpcPrivateKeyFile,
                                                 certificateChainFile: sslGrpcCertificateChainFile)
            }
        }

        var https = HTTPSTLSOptions()
        if let value = sslHttpsVerifyPeer {
            guard (0...1).contains(value) else { throw OptionError("--ssl-https-verify-peer \(value): expected 0 or 1") }
            https.verifyPeer = value
        }
        if let value = sslHttpsVerifyHost {
            guard (0...2).contains(value) else { throw OptionError("--ssl-https-verify-host \(value): expected 0, 1 or 2") }
            https.verifyHost = value
        }
        https.caCertificatesFile = sslHttpsCaCertificatesFile
        https.clientCertificateFile = sslHttpsClientCertificateFile
        https.privateKeyFile = sslHttpsPrivateKeyFile
        if let format = sslHttpsClientCertificateType { https.clientCertificateType = format }
        if let format = sslHttpsPrivateKeyType { https.privateKeyType = format }
        if https.isCustomized {
            if isGRPC { throw OptionError("--ssl-https-*: these apply to -i http; for gRPC use the --ssl-grpc-* flags") }
            if !isHTTPS { throw OptionError("--ssl-https-*: these need an https:// URL (-u https://host:port)") }
        }
        if (https.clientCertificateFile == nil) != (https.privateKeyFile == nil) {
            throw OptionError("--ssl-https-client-certificate-file and --ssl-https-private-key-file go together (mutual TLS needs both)")
        }
        options.httpsTLS = https
    }
}

extension PerfAnalyzerCommand {
    /// `--service-kind`, with the two flags that only its C API form takes.
    func resolveServiceKind() throws(OptionError) -> PerfAnalyzerOptions.TritonCAPI? {
        switch general.serviceKind.lowercased() {
        case "triton":
            if server.tritonServerDirectory != nil { throw OptionError("--triton-server-directory: applies to --service-kind triton_c_api") }
            if server.modelRepository != nil { throw OptionError("--model-repository: applies to --service-kind triton_c_api") }
            return nil
        case "triton_c_api":
            guard let repository = server.modelRepository, !repository.isEmpty else {
                throw OptionError("--service-kind triton_c_api: --model-repository is required (the repository the in-process server loads)")
            }
            let directory = server.tritonServerDirectory ?? "/opt/tritonserver"
            guard !directory.isEmpty else { throw OptionError("--triton-server-directory: the path is empty") }
            return PerfAnalyzerOptions.TritonCAPI(serverDirectory: directory, modelRepository: repository)
        case "openai":
            if server.tritonServerDirectory != nil { throw OptionError("--triton-server-directory: applies to --service-kind triton_c_api") }
            if server.modelRepository != nil { throw OptionError("--model-repository: applies to --service-kind triton_c_api") }
            return nil
        case "tfserving", "torchserve", "dynamic_grpc":
            let server = ["tfserving": "TensorFlow Serving", "torchserve": "TorchServe", "dynamic_grpc": "custom gRPC service"][general.serviceKind.lowercased()]!
            throw OptionError("--service-kind \(general.serviceKind): not supported: there is no \(server) here to test it against, so perf-analyzer takes triton, triton_c_api and openai only")
        default:
            throw OptionError("--service-kind \(general.serviceKind): expected triton, triton_c_api or openai (perf_analyzer's other kinds: tfserving, torchserve, dynamic_grpc)")
        }
    }

    /// `--service-kind triton_c_api` has no connection: an address, headers, compression or TLS
    /// are refused by name, before the protocol's own checks would word them for a network.
    /// `-i` is accepted and ignored, as perf_analyzer does.
    func checkCAPIConnectionFlags() throws(OptionError) {
        let kind = "--service-kind triton_c_api"
        if server.url != nil { throw OptionError("-u: \(kind) runs Triton inside this process; there is no server address") }
        if !other.header.isEmpty { throw OptionError("-H: \(kind) sends no HTTP request to carry headers") }
        if server.grpcCompressionAlgorithm != nil { throw OptionError("--grpc-compression-algorithm: \(kind) sends nothing over gRPC to compress") }
        let tls: [(String, Bool)] = [
            ("--ssl-grpc-use-ssl", server.sslGrpcUseSsl != nil),
            ("--ssl-grpc-root-certifications-file", server.sslGrpcRootCertificationsFile != nil),
            ("--ssl-grpc-private-key-file", server.sslGrpcPrivateKeyFile != nil),
            ("--ssl-grpc-certificate-chain-file", server.sslGrpcCertificateChainFile != nil),
            ("--ssl-https-verify-peer", server.sslHttpsVerifyPeer != nil),
            ("--ssl-https-verify-host", server.sslHttpsVerifyHost != nil),
            ("--ssl-https-ca-certificates-file", server.sslHttpsCaCertificatesFile != nil),
            ("--ssl-https-client-certificate-file", server.sslHttpsClientCertificateFile != nil),
            ("--ssl-https-client-certificate-type", server.sslHttpsClientCertificateType != nil),
            ("--ssl-https-private-key-file", server.sslHttpsPrivateKeyFile != nil),
            ("--ssl-https-private-key-type", server.sslHttpsPrivateKeyType != nil),
        ]
        if let flag = tls.first(where: { $0.1 })?.0 { throw OptionError("\(flag): \(kind) has no connection for TLS to protect") }
    }

    /// What else `--service-kind triton_c_api` cannot honour, each refused by name: tensors go as
    /// raw memory, and some features are not implemented for this kind.
    func checkCAPIRestrictions(_ options: PerfAnalyzerOptions) throws(OptionError) {
        let kind = "--service-kind triton_c_api"
        if options.inputTensorFormat == .json || options.outputTensorFormat == .json {
            let flag = options.inputTensorFormat == .json ? "--input-tensor-format" : "--output-tensor-format"
            throw OptionError("\(flag) json: \(kind) hands tensors to Triton as raw memory; there is no wire format to choose")
        }
        // perf_analyzer reads metrics and sets traces only for a server over the network.
        if options.serverMetrics != nil {
            throw OptionError("--collect-metrics: only with --service-kind triton (the in-process server of \(kind) serves no metrics endpoint)")
        }
        if !options.traceSettings.isEmpty {
            throw OptionError("--trace-level/--trace-rate/--trace-count/--log-frequency: only with --service-kind triton (they are sent through the server's trace endpoint)")
        }
        if options.sharedMemory != .none {
            throw OptionError("--shared-memory \(options.sharedMemory.rawValue): not implemented for \(kind) (inputs are already handed to the in-process server in place; registering regions with it is not supported)")
        }
        if measurement.periodicConcurrencyRange != nil { throw OptionError("--periodic-concurrency-range: not implemented for \(kind)") }
    }
}
