import NIOCore
import NIOPosix

/// The listener of ``SimulatorFault/Mode/silent``: it accepts connections and never reads from or
/// writes to them, so a client sees a connect succeed and then nothing at all (no HTTP
/// response, no HTTP/2 SETTINGS frame). A connection stays open until its client closes it;
/// NIO still notices that close (it watches for the peer's end of stream even when not reading).
enum SilentListener {
    static func bootstrap(group: MultiThreadedEventLoopGroup) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Nothing in the pipeline and no reads: not one byte is taken off the socket.
            .childChannelOption(.autoRead, value: false)
    }
}
