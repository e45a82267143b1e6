import NIOCore
import NIOHTTP1

/// A request the OpenAI side refuses, with the status and the error body OpenAI-compatible
/// servers send: `{"error":{"message":...,"type":...,"code":STATUS}}`.
struct OpenAIError: Error {
    var status: HTTPResponseStatus
    var type: String
    var message: String

    static func badRequest(_ message: String) -> OpenAIError {
        OpenAIError(status: .badRequest, type: "BadRequestError", message: message)
    }

    static func notFound(_ message: String) -> OpenAIError {
        OpenAIError(status: .notFound, type: "NotFoundError", message: message)
    }

    static func methodNotAllowed(_ message: String) -> OpenAIError {
        OpenAIError(status: .methodNotAllowed, type: "MethodNotAllowedError", message: message)
    }

    static let tooManyRequests = OpenAIError(status: .tooManyRequests, type: "RateLimitError",
                                             message: "simulated rate limit: too many requests")
    static let midStream = OpenAIError(status: .internalServerError, type: "InternalServerError",
                                       message: SimulatorFault.streamErrorMessage)

    /// The JSON object alone, as both an error body and a stream's error event carry it.
    var json: ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: message.utf8.count + 64)
        buffer.writeStaticString("{\"error\":{\"message\":")
        buffer.writeJSONString(message)
        buffer.writeStaticString(",\"type\":")
        buffer.writeJSONString(type)
        buffer.writeStaticString(",\"code\":")
        buffer.writeDecimal(status.code)
        buffer.writeStaticString("}}")
        return buffer
    }
}
