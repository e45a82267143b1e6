/// `--ssl-grpc-*`: TLS for `-i grpc`. Present only when `--ssl-grpc-use-ssl true`.
public struct GRPCTLSOptions: Sendable, Equatable {
    /// PEM file of the roots that sign the server's certificate (nil: the system's roots).
    public var rootCertificatesFile: String?
    /// PEM files of the client's key and certificate chain, for mutual TLS.
    public var privateKeyFile: String?
    public var certificateChainFile: String?

    public init(rootCertificatesFile: String? = nil, privateKeyFile: String? = nil, certificateChainFile: String? = nil) {
        self.rootCertificatesFile = rootCertificatesFile
        self.privateKeyFile = privateKeyFile
        self.certificateChainFile = certificateChainFile
    }
}

/// `--ssl-https-*`: TLS for `-i http` with an `https://` URL, in libcurl's terms as
/// perf_analyzer exposes them.
public struct HTTPSTLSOptions: Sendable, Equatable {
    public enum FileFormat: String, Sendable, Equatable, CaseIterable {
        case pem = "PEM"
        case der = "DER"
    }

    /// 0: accept any certificate; 1: the chain must lead to a trusted root.
    public var verifyPeer: Int = 1
    /// 0: do not compare the certificate's names with the host; 1 or 2: do.
    public var verifyHost: Int = 2
    public var caCertificatesFile: String?
    public var clientCertificateFile: String?
    public var clientCertificateType: FileFormat = .pem
    public var privateKeyFile: String?
    public var privateKeyType: FileFormat = .pem

    public init() {}

    /// Whether any of the flags was given (they mean nothing without an https:// URL).
    public var isCustomized: Bool { self != HTTPSTLSOptions() }
}

/// `--grpc-compression-algorithm`.
public enum GRPCCompression: String, Sendable, Equatable, CaseIterable {
    case none
    case gzip
    case deflate
}
