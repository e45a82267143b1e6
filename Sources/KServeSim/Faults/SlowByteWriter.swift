import NIOCore

/// The outbound end of a ``SimulatorFault/Mode/slowBytes`` HTTP connection, between the HTTP
/// encoder and the socket (or TLS). The bytes of a response the handler marks slow, head and
/// body alike, leave `pieceBytes` at a time with `delay` between pieces; every other write
/// passes straight through, unless it has to wait behind a slow response to keep the order
/// on the wire. Only slow-bytes connections have one, so other servers never meet it.
final class SlowByteWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private struct Pending {
        var bytes: ByteBuffer
        var promise: EventLoopPromise<Void>?
        var slow: Bool
    }

    private let pieceBytes: Int
    private let delay: TimeAmount
    /// Set from ``slowDownNextResponse()`` until the flush that ends that response.
    private var slowing = false
    private var pending = CircularBuffer<Pending>()
    private var nextPiece: Scheduled<Void>?

    init(pieceBytes: Int = SimulatorFault.slowPieceBytes, delay: TimeAmount) {
        self.pieceBytes = pieceBytes
        self.delay = delay
    }

    /// Marks what is written up to the next flush (one whole response) as slow. Call on the channel's loop.
    func slowDownNextResponse() {
        slowing = true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard slowing || !pending.isEmpty else { return context.write(data, promise: promise) }
        switch unwrapOutboundIn(data) {
        case .byteBuffer(let bytes):
            pending.append(Pending(bytes: bytes, promise: promise, slow: slowing))
        case .fileRegion:
            // The HTTP handler never sends files; passing one on is all that could be done with it.
            context.write(data, promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        slowing = false
        if pending.isEmpty {
            context.flush()
        } else if nextPiece == nil {
            writePieces(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        nextPiece?.cancel()
        nextPiece = nil
        failPending(ChannelError.ioOnClosedChannel)
    }

    /// Writes what is due now: every fast write at the front of the queue, then one piece of a
    /// slow one, after which it comes back in `delay` for the next.
    private func writePieces(context: ChannelHandlerContext) {
        nextPiece = nil
        guard context.channel.isActive else { return failPending(ChannelError.ioOnClosedChannel) }
        while var first = pending.first {
            guard first.slow, first.bytes.readableBytes > 0 else {
                pending.removeFirst()
                context.write(wrapOutboundOut(.byteBuffer(first.bytes)), promise: first.promise)
                continue
            }
            let piece = first.bytes.readSlice(length: min(pieceBytes, first.bytes.readableBytes))!
            if first.bytes.readableBytes == 0 {
                pending.removeFirst()
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(piece)), promise: first.promise)
            } else {
                pending[pending.startIndex] = first
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(piece)), promise: nil)
            }
            if pending.isEmpty { return }
            nextPiece = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.writePieces(context: context)
            }
            return
        }
        context.flush()
    }

    private func failPending(_ error: any Error) {
        while let dropped = pending.popFirst() {
            dropped.promise?.fail(error)
        }
    }
}
