/// A way for the simulator to misbehave on purpose, so that a client's handling of a broken
/// server can be tried over a real connection. Control calls (health, metadata, config,
/// statistics, shared memory) are never faulted, except by ``Mode/silent``, which answers nothing.
public struct SimulatorFault: Sendable, Equatable, CustomStringConvertible {
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Both listeners accept connections and never read or write a byte on them.
        case silent
        /// Faulted inference requests are never answered; their connection (HTTP) or call (gRPC) stays open.
        case stall
        /// HTTP only: 200 with a body that is not JSON.
        case garbage
        /// HTTP: 200 with JSON that is no inference response; gRPC: a response without outputs.
        case wrongShape = "wrong-shape"
        /// HTTP only: 200 whose Inference-Header-Content-Length claims more bytes than the body has.
        case shortBody = "short-body"
        /// The right answer, sent slowly: HTTP in small pieces, gRPC held back.
        case slowBytes = "slow-bytes"
        /// A streamed OpenAI answer sends half its tokens, then an error event and `[DONE]`; any other
        /// answer (not streamed, KServe v2) is HTTP 500 with an error body. HTTP only.
        case streamError = "stream-error"
        /// A streamed OpenAI answer sends half its tokens, then the first half of the next event, and
        /// the connection closes; any other answer goes out as half its bytes before the close. HTTP only.
        case streamCut = "stream-cut"
        /// HTTP 429 with an error body and `Retry-After: 1`; the model never runs. HTTP only.
        case tooManyRequests = "too-many-requests"

        /// Whether gRPC inference carries this fault. The generated gRPC service only sends
        /// well-formed messages, so a body that does not decode is an HTTP-only fault; gRPC
        /// refuses those calls with UNIMPLEMENTED instead of answering them as if nothing were wrong.
        public var reachesGRPC: Bool {
            switch self {
            case .silent, .stall, .wrongShape, .slowBytes: return true
            case .garbage, .shortBody, .streamError, .streamCut, .tooManyRequests: return false
            }
        }
    }

    /// Bytes of a slow-bytes HTTP response written at once: a 300-byte response takes 18 pauses.
    public static let slowPieceBytes = 16
    /// A slow-bytes gRPC response is held back this many pauses (grpc-swift writes a message whole).
    public static let grpcSlowPauses = 10
    public static let defaultDelayMilliseconds = 100
    /// An hour: longer pauses help no test, and far longer ones overflow the clocks' arithmetic.
    public static let maximumDelayMilliseconds = 3_600_000

    public var mode: Mode
    /// Inference requests (both protocols, every connection) answered normally before the fault
    /// applies. ``Mode/silent`` answers nothing at all and ignores it.
    public var after: Int
    /// ``Mode/slowBytes`` only: the pause between two pieces of an HTTP response.
    public var delayMilliseconds: Int

    public init(_ mode: Mode, after: Int = 0, delayMilliseconds: Int = SimulatorFault.defaultDelayMilliseconds) {
        self.mode = mode
        self.after = after
        self.delayMilliseconds = delayMilliseconds
    }

    /// How long a slow-bytes gRPC response is held back before it is sent.
    public var grpcHoldBack: Duration { .milliseconds(delayMilliseconds) * Self.grpcSlowPauses }

    /// Retry-After of a too-many-requests answer, in seconds.
    public static let retryAfterSeconds = 1
    /// The message of a stream-error answer, in its error event or error body.
    public static let streamErrorMessage = "simulated failure mid-stream"

    /// One line saying what the fault does, for the simulator's start-up message.
    public var description: String {
        let faulted = "inference requests after the first \(after)"
        let grpcRefusal = "HTTP only: gRPC inference after the first \(after) fails UNIMPLEMENTED"
        switch mode {
        case .silent:
            return "fault silent: both listeners accept connections and never read or write a byte"
        case .stall:
            return "fault stall: \(faulted) are never answered (HTTP and gRPC)"
        case .garbage:
            return "fault garbage: \(faulted) get HTTP 200 with a body that is not JSON (\(grpcRefusal))"
        case .wrongShape:
            return "fault wrong-shape: \(faulted) get HTTP 200 with JSON that is no inference response, over gRPC a response without outputs"
        case .shortBody:
            return "fault short-body: \(faulted) get HTTP 200 whose Inference-Header-Content-Length exceeds the body (\(grpcRefusal))"
        case .slowBytes:
            return "fault slow-bytes: answers to \(faulted) go out \(Self.slowPieceBytes) bytes every \(delayMilliseconds) ms over HTTP, "
                + "\(Self.grpcSlowPauses) times that late over gRPC"
        case .streamError:
            return "fault stream-error: streamed OpenAI answers to \(faulted) stop after half their tokens with an error event "
                + "and [DONE], other HTTP answers are 500 (\(grpcRefusal))"
        case .streamCut:
            return "fault stream-cut: streamed OpenAI answers to \(faulted) stop after half their tokens in the middle of an event "
                + "and the connection closes, other HTTP answers are cut after half their bytes (\(grpcRefusal))"
        case .tooManyRequests:
            return "fault too-many-requests: \(faulted) get HTTP 429 with Retry-After: \(Self.retryAfterSeconds) and are not run (\(grpcRefusal))"
        }
    }
}
