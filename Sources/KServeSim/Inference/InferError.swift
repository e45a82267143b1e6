/// A request the simulator refuses. The message is sent to the client verbatim
/// as `{"error": message}` with status 400, so it should read like Triton's.
public struct InferError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
