import GRPCNIOTransportHTTP2
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS for both listeners: the server's certificate and key (PEM files), and
/// optionally the CA that client certificates must be signed by (mutual TLS).
public struct TLSSettings: Sendable, Equatable {
    public var certificatePath: String
    public var privateKeyPath: String
    /// When set, every client must present a certificate this CA signed.
    public var clientCAPath: String?

    public init(certificatePath: String, privateKeyPath: String, clientCAPath: String? = nil) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
    }

    /// Which file a ``SimulatorError/invalidTLSFile(_:path:reason:)`` is about,
    /// named by the command-line option that sets it.
    public enum File: String, Sendable, Equatable {
        case certificate = "--tls-certificate-file"
        case privateKey = "--tls-private-key-file"
        case clientCA = "--tls-client-ca-file"
    }
}

/// The TLS files read and checked once at start, in the forms the two listeners take.
struct LoadedTLS {
    /// For the HTTP/1.1 pipeline's `NIOSSLServerHandler`.
    let httpContext: NIOSSLContext
    /// For the gRPC transport, which builds its own context from these bytes.
    let grpcSecurity: HTTP2ServerTransport.Posix.TransportSecurity

    init(_ settings: TLSSettings) throws(SimulatorError) {
        let certificateBytes = try Self.contents(.certificate, settings.certificatePath)
        let certificates = try Self.certificates(in: certificateBytes, .certificate, settings.certificatePath)
        let keyBytes = try Self.contents(.privateKey, settings.privateKeyPath)
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw .invalidTLSFile(.privateKey, path: settings.privateKeyPath,
                                  reason: "not a PEM private key (or one this server cannot use): \(error)")
        }
        var clientCA: (bytes: [UInt8], certificates: [NIOSSLCertificate])?
        if let path = settings.clientCAPath {
            let bytes = try Self.contents(.clientCA, path)
            clientCA = (bytes, try Self.certificates(in: bytes, .clientCA, path))
        }

        var http = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        http.applicationProtocols = ["http/1.1"]
        if let clientCA {
            // Verify the chain but not a host name: clients have none to match.
            http.certificateVerification = .noHostnameVerification
            http.trustRoots = .certificates(clientCA.certificates)
        }
        do {
            httpContext = try NIOSSLContext(configuration: http)
        } catch {
            throw .invalidTLSFile(.privateKey, path: settings.privateKeyPath,
                                  reason: "cannot be used with the certificate in '\(settings.certificatePath)' (do they belong together?): \(error)")
        }

        grpcSecurity = .tls(
            certificateChain: [.bytes(certificateBytes, format: .pem)],
            privateKey: .bytes(keyBytes, format: .pem)
        ) { grpc in
            if let clientCA {
                grpc.clientCertificateVerification = .noHostnameVerification
                grpc.trustRoots = .certificates([.bytes(clientCA.bytes, format: .pem)])
            }
        }
    }

    private static func certificates(in bytes: [UInt8], _ file: TLSSettings.File,
                                     _ path: String) throws(SimulatorError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw .invalidTLSFile(file, path: path, reason: "not a valid PEM certificate file: \(error)")
        }
        guard !certificates.isEmpty else {
            throw .invalidTLSFile(file, path: path, reason: "holds no PEM certificate")
        }
        return certificates
    }

    /// The whole file, or an error that says why it cannot be read.
    private static func contents(_ file: TLSSettings.File, _ path: String) throws(SimulatorError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .invalidTLSFile(file, path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .invalidTLSFile(file, path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk[0..<count])
        }
        guard !contents.isEmpty else { throw .invalidTLSFile(file, path: path, reason: "the file is empty") }
        return contents
    }
}
