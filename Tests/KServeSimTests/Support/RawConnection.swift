import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection to 127.0.0.1 for tests that look at exactly what a server sends,
/// or that it sends nothing, within a time limit. Every wait here is bounded.
struct RawConnection: Sendable {
    let channel: any Channel
    private let received: ReceivedBytes

    /// What has arrived so far, and whether the server closed the connection.
    struct Snapshot: Sendable {
        var bytes: [UInt8] = []
        var closed = false
    }

    /// Opens a connection, runs `body`, and always closes it.
    static func with<Result: Sendable>(port: Int, _ body: (RawConnection) async throws -> Result) async throws -> Result {
        let received = ReceivedBytes()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteCollector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let connection = RawConnection(channel: channel, received: received)
        do {
            let result = try await body(connection)
            try? await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    func send(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes).get()
    }

    var snapshot: Snapshot { received.snapshot }

    /// Waits until `isDone` holds for what has arrived, or the server closed, or `timeout` passed;
    /// returns what had arrived by then.
    func wait(atMost timeout: Duration, until isDone: (Snapshot) -> Bool = { _ in false }) async throws -> Snapshot {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let now = received.snapshot
            if isDone(now) || now.closed || clock.now >= deadline { return now }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends `request` and waits up to `timeout` for one whole response; throws when none came.
    func exchange(_ request: TestRequest, timeout: Duration = .seconds(10)) async throws -> RawHTTPResponse {
        let before = received.snapshot.bytes.count
        try await send(RawHTTPResponse.requestBytes(request))
        let arrived = try await wait(atMost: timeout) { RawHTTPResponse.parse(Array($0.bytes[before...])) != nil }
        guard let response = RawHTTPResponse.parse(Array(arrived.bytes[before...])) else {
            throw TestClientError("no whole response to \(request.method.rawValue) \(request.path) within \(timeout) (got \(arrived.bytes.count - before) bytes, closed: \(arrived.closed))")
        }
        return response
    }
}

/// One request on a fresh connection, answered within `timeout`.
func rawExchange(port: Int, _ request: TestRequest, timeout: Duration = .seconds(10)) async throws -> RawHTTPResponse {
    try await RawConnection.with(port: port) { try await $0.exchange(request, timeout: timeout) }
}

/// The bytes a ``RawConnection`` received, filled in on its event loop and read from the test.
private final class ReceivedBytes: Sendable {
    private let state = Mutex(RawConnection.Snapshot())

    var snapshot: RawConnection.Snapshot { state.withLock { $0 } }

    func append(_ buffer: ByteBuffer) {
        state.withLock { $0.bytes.append(contentsOf: buffer.readableBytesView) }
    }

    func markClosed() {
        state.withLock { $0.closed = true }
    }
}

private final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let received: ReceivedBytes

    init(received: ReceivedBytes) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.append(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        received.markClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
