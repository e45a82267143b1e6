/// A request the simulator refuses. The message is sent to the client verbatim
/// as `{"error": message}` with status 400, so it should read like Triton's.
public struct InferError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension InferError {
    /// The refusal of a decoupled model by an endpoint that answers once per request.
    static func decoupled(model: String, endpoint: String) -> InferError {
        InferError("\(endpoint) doesn't support models with decoupled transaction policy: model '\(model)' is decoupled; send its requests over a gRPC stream (ModelStreamInfer)")
    }
}
