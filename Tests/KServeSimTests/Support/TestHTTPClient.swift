import Foundation
import KServeProtocol
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A response as the tests look at it.
struct TestResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    var text: String { String(buffer: body) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }

    /// The `error` of a KServe error body.
    var errorMessage: String? { try? decode(ErrorResponse.self).error }
}

/// One request to send.
struct TestRequest: Sendable {
    var method: HTTPMethod = .GET
    var path: String
    var headers: [(String, String)] = []
    var body: ByteBuffer?
}

/// A keep-alive HTTP/1.1 connection driven with async/await, one request at a time
/// (or several written back to back, to exercise pipelining).
struct TestConnection {
    var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

    mutating func send(_ request: TestRequest) async throws -> TestResponse {
        try await write(request)
        return try await readResponse()
    }

    func write(_ request: TestRequest) async throws {
        var headers = HTTPHeaders([("host", "localhost")] + request.headers)
        headers.add(name: "content-length", value: String(request.body?.readableBytes ?? 0))
        var parts: [HTTPClientRequestPart] = [
            .head(HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: headers)),
        ]
        if let body = request.body { parts.append(.body(.byteBuffer(body))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }

    mutating func readResponse() async throws -> TestResponse {
        var head: HTTPResponseHead?
        var body = ByteBuffer()
        while let part = try await inbound.next() {
            switch part {
            case .head(let received): head = received
            case .body(var chunk): body.writeBuffer(&chunk)
            case .end:
                guard let head else { throw TestClientError("response ended before its head") }
                return TestResponse(status: head.status, headers: head.headers, body: body)
            }
        }
        throw TestClientError("connection closed before a full response")
    }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Opens connections to a simulator on 127.0.0.1.
struct TestClient: Sendable {
    let port: Int
    /// Set for HTTPS: the client side of TLS, and the name to check the server certificate against.
    var tls: NIOSSLContext? = nil
    var serverHostname: String? = nil

    func withConnection<Result: Sendable>(
        _ body: (inout TestConnection) async throws -> Result
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = TestConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }

    func send(_ request: TestRequest) async throws -> TestResponse {
        try await withConnection { try await $0.send(request) }
    }

    func get(_ path: String) async throws -> TestResponse {
        try await send(TestRequest(path: path))
    }

    func post(_ path: String, json: String) async throws -> TestResponse {
        try await send(TestRequest(method: .POST, path: path, body: ByteBuffer(string: json)))
    }

    func infer(_ model: String, _ request: InferRequest) async throws -> TestResponse {
        try await send(request.httpRequest(model: model))
    }
}
