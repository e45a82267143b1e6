import NIOSSL

/// Turns NIOSSL's and BoringSSL's errors into one line a user can act on.
enum TLSFailure {
    static func describe(_ error: any Error) -> String {
        let raw = "\(error)"
        if let reason = knownReason(in: raw) { return reason }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the server's certificate was not issued for this host name"
        }
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            return "the server closed the connection during the TLS handshake"
        }
        return raw
    }

    /// A worded reason when `text` (an error's description) names a BoringSSL failure we know.
    static func knownReason(in text: String) -> String? {
        let known: [(String, String)] = [
            ("CERTIFICATE_VERIFY_FAILED", "the server's certificate was not accepted: it is not signed by a trusted CA, has expired or is not yet valid"),
            ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "the server requires a client certificate and none was given"),
            ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "the server requires a client certificate and none was given"),
            ("TLSV1_ALERT_UNKNOWN_CA", "the server does not trust the client certificate's CA"),
            ("SSLV3_ALERT_BAD_CERTIFICATE", "the server rejected the client certificate"),
            ("SSLV3_ALERT_CERTIFICATE_EXPIRED", "the server rejected the client certificate as expired"),
            ("SSLV3_ALERT_HANDSHAKE_FAILURE", "the server refused the handshake (no common protocol or cipher, or a client certificate it requires)"),
            ("KEY_VALUES_MISMATCH", "the private key does not belong to the certificate"),
            ("WRONG_VERSION_NUMBER", "the server did not answer with TLS (is it serving plain text on this port?)"),
            ("NO_APPLICATION_PROTOCOL", "the server does not offer the expected application protocol (ALPN)"),
        ]
        for (marker, reason) in known where text.contains(marker) {
            return "\(reason) (\(marker))"
        }
        return nil
    }

    static func isTLSError(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }
}
