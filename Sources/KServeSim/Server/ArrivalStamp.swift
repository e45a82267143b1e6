import KServeProtocol
import NIOCore

/// First in a connection's pipeline: notes when the bytes it reads reached the server, by the
/// event loop's wake-up (`LoopWakeClock`). A request's record counts from there, so the time it
/// waited while the loop read and answered the other requests of the same wake-up is the
/// server's, not the client's: without it, a client that sends several requests at once would
/// be charged for the server's queue.
final class ArrivalStamp: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let clock: LoopWakeClock
    /// The wake-up this channel last read in (`LoopWakeClock`).
    private var lastWake: UInt64 = 0
    /// When the bytes of the latest read arrived, on the monotonic clock.
    private(set) var latestNs: UInt64 = 0

    init(clock: LoopWakeClock) {
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        latestNs = clock.arrivalNs(channelWake: &lastWake)
        context.fireChannelRead(data)
    }
}
