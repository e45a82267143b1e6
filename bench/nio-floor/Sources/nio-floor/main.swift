// nio-floor HOST PORT PATH CONNECTIONS SECONDS BODY_FILE
//
// The least a SwiftNIO load client does per request: one event loop, one handler per
// connection, the same request bytes every time, each answer found by its Content-Length and
// the next request written as soon as it is. No records, no clock per request, no checks.
// After a one-second warm-up it counts answers for SECONDS and prints "Requests/sec: N".
import Foundation
import NIOCore
import NIOPosix

let arguments = CommandLine.arguments
guard arguments.count == 7, let port = Int(arguments[2]), let connections = Int(arguments[4]),
      let seconds = Double(arguments[5]), let body = FileManager.default.contents(atPath: arguments[6]) else {
    FileHandle.standardError.write(Data("usage: nio-floor HOST PORT PATH CONNECTIONS SECONDS BODY_FILE\n".utf8))
    exit(2)
}
let host = arguments[1]
var request = ByteBuffer(string: "POST \(arguments[3]) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\n"
    + "Content-Length: \(body.count)\r\n\r\n")
request.writeBytes(body)
let canned = request

/// Answers counted on the loop's thread only.
nonisolated(unsafe) var answered = 0

final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Body bytes of the current answer still to come; nil while its head is being read.
    private var bodyLeft: Int?
    /// A head split across reads waits here.
    private var partial = ByteBuffer()

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(canned), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if partial.readableBytes > 0 {
            partial.writeBuffer(&incoming)
            swap(&incoming, &partial)
            partial.clear()
        }
        var finished = 0
        while incoming.readableBytes > 0 {
            if let left = bodyLeft {
                let take = min(left, incoming.readableBytes)
                incoming.moveReaderIndex(forwardBy: take)
                bodyLeft = left - take == 0 ? nil : left - take
                if left == take { finished += 1 }
                continue
            }
            guard let (headLength, contentLength) = Self.head(incoming) else {
                partial.writeBuffer(&incoming)
                break
            }
            incoming.moveReaderIndex(forwardBy: headLength)
            if contentLength == 0 { finished += 1 } else { bodyLeft = contentLength }
        }
        for _ in 0..<finished {
            answered += 1
            context.writeAndFlush(wrapOutboundOut(canned), promise: nil)
        }
    }

    /// The head's length and the Content-Length it names, once the blank line is in.
    private static func head(_ buffer: ByteBuffer) -> (Int, Int)? {
        buffer.withUnsafeReadableBytes { bytes -> (Int, Int)? in
            var contentLength = 0
            var index = 0
            while index + 3 < bytes.count {
                if bytes[index] == 0x0D, bytes[index + 1] == 0x0A {
                    if bytes[index + 2] == 0x0D, bytes[index + 3] == 0x0A { return (index + 4, contentLength) }
                    // "content-length:" starts the next line? (case-insensitive on its first letters)
                    let start = index + 2
                    if start + 15 < bytes.count, bytes[start] | 0x20 == UInt8(ascii: "c"), bytes[start + 8] | 0x20 == UInt8(ascii: "l"),
                       bytes[start + 14] == UInt8(ascii: ":") {
                        var digit = start + 15
                        while digit < bytes.count, bytes[digit] == 0x20 { digit += 1 }
                        contentLength = 0
                        while digit < bytes.count, bytes[digit] >= 0x30, bytes[digit] <= 0x39 {
                            contentLength = contentLength * 10 + Int(bytes[digit] - 0x30)
                            digit += 1
                        }
                    }
                }
                index += 1
            }
            return nil
        }
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let loop = group.next()
for _ in 0..<connections {
    _ = try ClientBootstrap(group: loop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FloorHandler()) }
        }
        .connect(host: host, port: port).wait()
}
Thread.sleep(forTimeInterval: 1)
let before = try loop.submit { answered }.wait()
Thread.sleep(forTimeInterval: seconds)
let after = try loop.submit { answered }.wait()
print(String(format: "Requests/sec: %.0f", Double(after - before) / seconds))
exit(0)
