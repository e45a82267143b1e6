import KServeProtocol
import NIOCore
import NIOHTTP1

/// What a faulted HTTP inference request gets in place of the answer it would have had
/// (an error answer included). Content-Length is added when it is written, so it always
/// matches the bytes sent.
struct HTTPFaultAnswer {
    static let garbageBody = "this is not a KServe answer"
    static let wrongShapeBody = #"{"result":"ok"}"#
    /// How many bytes a short-body answer's Inference-Header-Content-Length claims past its body.
    static let shortBodyOverrun = 100

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer?
    /// stream-cut: only the head and the first half of the body go out, then the connection closes.
    var cutsHalfway = false

    /// Nil when the fault answers nothing at all. slow-bytes keeps the answer: its fault is in how it is written.
    init?(_ mode: SimulatorFault.Mode, status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        switch mode {
        case .silent, .stall:
            return nil
        case .garbage:
            self.init(status: .ok, headers: ["content-type": "text/plain"], body: ByteBuffer(string: Self.garbageBody))
        case .wrongShape:
            self.init(status: .ok, headers: HTTPHandler.jsonHeaders, body: ByteBuffer(string: Self.wrongShapeBody))
        case .shortBody:
            // The whole answer is sent, but its header claims to be longer than everything sent.
            var claimed = HTTPHandler.binaryHeaders
            claimed.add(name: BinaryTensorHeader.headerContentLength,
                        value: String((body?.readableBytes ?? 0) + Self.shortBodyOverrun))
            self.init(status: .ok, headers: claimed, body: body)
        case .slowBytes:
            self.init(status: status, headers: headers, body: body)
        case .streamError:
            self.init(status: .internalServerError, headers: HTTPHandler.jsonHeaders,
                      body: ServerCore.errorBody(SimulatorFault.streamErrorMessage))
        case .streamCut:
            self.init(status: status, headers: headers, body: body)
            cutsHalfway = true
        case .tooManyRequests:
            var limited = HTTPHandler.jsonHeaders
            limited.add(name: "retry-after", value: String(SimulatorFault.retryAfterSeconds))
            self.init(status: .tooManyRequests, headers: limited,
                      body: ServerCore.errorBody("simulated rate limit: too many requests"))
        }
    }

    private init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
