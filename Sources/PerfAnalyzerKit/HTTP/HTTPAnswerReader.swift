import NIOCore

/// The reading side of a load connection: bytes as the socket delivers them in, whole
/// responses out. Bytes of a response not complete yet wait for the next read (copied only
/// then, when a response spans reads).
struct HTTPAnswerReader {
    var framer: HTTPResponseFramer
    private var pending: ByteBuffer?

    init(framer: HTTPResponseFramer) {
        self.framer = framer
    }

    /// Frames every response `incoming` completes and hands each to `deliver`.
    @inline(__always)
    mutating func read(_ incoming: ByteBuffer, deliver: (HTTPResponseFrame) -> Void) throws(HTTPResponseFramer.ParseError) {
        var buffer = incoming
        if var waiting = pending, waiting.readableBytes > 0 {
            pending = nil
            waiting.writeBuffer(&buffer)
            buffer = waiting
        } else {
            pending = nil
        }
        while let frame = try framer.next(from: &buffer) { deliver(frame) }
        if buffer.readableBytes > 0 { pending = buffer }
    }

    /// The connection closed: a body delimited by the close is now complete.
    mutating func endOfStream() -> HTTPResponseFrame? {
        framer.endOfStream()
    }
}
