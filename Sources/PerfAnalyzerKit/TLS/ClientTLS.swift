import Foundation
import GRPCNIOTransportHTTP2
import NIOCore
import NIOSSL

/// The TLS side of a run, built from the `--ssl-*` flags before any connection is made,
/// so a missing or unreadable file is reported by its flag and nothing is sent.
struct ClientTLS: Sendable {
    /// The context every TLS connection of the run uses (control plane, load, preflight).
    let context: NIOSSLContext
    /// The same settings for grpc-swift's transport, which builds its own context.
    let grpcSecurity: HTTP2ClientTransport.Posix.TransportSecurity?

    /// TLS for `https://` URLs, or nil for plain HTTP.
    static func forHTTPS(_ options: HTTPSTLSOptions, address: ServerAddress) throws(RunError) -> ClientTLS? {
        guard address.usesTLS else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = options.verifyPeer == 0 ? .none
            : options.verifyHost == 0 ? .noHostnameVerification : .fullVerification
        if let path = options.caCertificatesFile {
            configuration.trustRoots = .certificates(try certificates(path, format: .pem, flag: "--ssl-https-ca-certificates-file"))
        }
        if let path = options.clientCertificateFile {
            let format: NIOSSLSerializationFormats = options.clientCertificateType == .der ? .der : .pem
            configuration.certificateChain = try certificates(path, format: format, flag: "--ssl-https-client-certificate-file")
                .map { .certificate($0) }
        }
        if let path = options.privateKeyFile {
            let format: NIOSSLSerializationFormats = options.privateKeyType == .der ? .der : .pem
            let flag = "--ssl-https-private-key-file"
            configuration.privateKey = .privateKey(try privateKey(try readFile(path, flag: flag), path: path, format: format, flag: flag))
        }
        configuration.applicationProtocols = ["http/1.1"]
        return ClientTLS(context: try makeContext(configuration), grpcSecurity: nil)
    }

    /// TLS for `-i grpc`, or nil when `--ssl-grpc-use-ssl` is off.
    static func forGRPC(_ options: GRPCTLSOptions?) throws(RunError) -> ClientTLS? {
        guard let options else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        var security = HTTP2ClientTransport.Posix.TransportSecurity.TLS.defaults
        if let path = options.rootCertificatesFile {
            let roots = try certificates(path, format: .pem, flag: "--ssl-grpc-root-certifications-file")
            configuration.trustRoots = .certificates(roots)
            security.trustRoots = .certificates(try roots.map { certificate throws(RunError) in
                .bytes(try derBytes(certificate, flag: "--ssl-grpc-root-certifications-file"), format: .der)
            })
        }
        if let chainPath = options.certificateChainFile, let keyPath = options.privateKeyFile {
            let chain = try certificates(chainPath, format: .pem, flag: "--ssl-grpc-certificate-chain-file")
            let keyBytes = try readFile(keyPath, flag: "--ssl-grpc-private-key-file")
            let key = try privateKey(keyBytes, path: keyPath, format: .pem, flag: "--ssl-grpc-private-key-file")
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
            security.certificateChain = try chain.map { certificate throws(RunError) in
                .bytes(try derBytes(certificate, flag: "--ssl-grpc-certificate-chain-file"), format: .der)
            }
            security.privateKey = .bytes(keyBytes, format: .pem)
        }
        configuration.applicationProtocols = ["h2"]
        return ClientTLS(context: try makeContext(configuration), grpcSecurity: .tls(security))
    }

    /// A TLS handler for one connection. An IP address is not sent as the server name (TLS
    /// forbids it); NIOSSL then checks the certificate against the address it connected to.
    func makeHandler(address: ServerAddress) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: address.isIPAddress ? nil : address.host)
    }

    // MARK: Loading

    private static func readFile(_ path: String, flag: String) throws(RunError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw RunError("\(flag) \(path): \(exists ? "the file cannot be read" : "no such file")")
        }
        return [UInt8](data)
    }

    private static func certificates(_ path: String, format: NIOSSLSerializationFormats, flag: String) throws(RunError) -> [NIOSSLCertificate] {
        let bytes = try readFile(path, flag: flag)
        do {
            let loaded = format == .pem ? try NIOSSLCertificate.fromPEMBytes(bytes) : [try NIOSSLCertificate(bytes: bytes, format: .der)]
            guard !loaded.isEmpty else { throw RunError("\(flag) \(path): no certificate found in the file") }
            return loaded
        } catch let error as RunError {
            throw error
        } catch {
            throw RunError("\(flag) \(path): expected a \(format == .pem ? "PEM" : "DER") certificate, but the file could not be read as one")
        }
    }

    private static func privateKey(_ bytes: [UInt8], path: String, format: NIOSSLSerializationFormats,
                                   flag: String) throws(RunError) -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: format)
        } catch {
            throw RunError("\(flag) \(path): expected a \(format == .pem ? "PEM" : "DER") private key, but the file could not be read as one")
        }
    }

    private static func derBytes(_ certificate: NIOSSLCertificate, flag: String) throws(RunError) -> [UInt8] {
        do {
            return try certificate.toDERBytes()
        } catch {
            throw RunError("\(flag): a certificate could not be re-encoded: \(error)")
        }
    }

    private static func makeContext(_ configuration: TLSConfiguration) throws(RunError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            // Typically a key that does not belong to the certificate.
            throw RunError("TLS settings rejected: \(TLSFailure.describe(error))")
        }
    }
}
