/// A failure to reach the server, worded for the user.
public struct ConnectionError: Error, CustomStringConvertible {
    public var address: ServerAddress
    public var underlying: Error
    public var description: String {
        if TLSFailure.isTLSError(underlying) { return "TLS with \(address) failed: \(TLSFailure.describe(underlying))" }
        return "failed to connect to \(address): \(underlying)"
    }
}
