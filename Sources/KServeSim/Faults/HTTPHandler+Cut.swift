import NIOCore
import NIOHTTP1

extension HTTPHandler {
    /// The stream-cut fault for an answer that is not streamed: the head promises the whole body
    /// (its Content-Length is right), then only the first half of it is written and the connection
    /// closes, so the client sees its peer go away in the middle of a response.
    func writeHalfAndClose(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                           headers base: HTTPHeaders, body: ByteBuffer) {
        var headers = base
        headers.add(name: "content-length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        let half = body.getSlice(at: body.readerIndex, length: body.readableBytes / 2) ?? ByteBuffer()
        let written = context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(half))))
        written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
