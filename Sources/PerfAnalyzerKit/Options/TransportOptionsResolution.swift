extension PerfAnalyzerCommand.Server {
    /// Streaming, compression and TLS flags, checked against the protocol and URL they need.
    func resolveTransport(into options: inout PerfAnalyzerOptions) throws(OptionError) {
        let isGRPC = options.wireProtocol == .grpc
        let isHTTPS = options.url.lowercased().hasPrefix("https://")

        if streaming {
            guard isGRPC else { throw OptionError("--streaming: streaming needs -i grpc") }
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
