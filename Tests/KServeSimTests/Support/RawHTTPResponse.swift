import Foundation
import KServeProtocol
import NIOCore

/// An HTTP/1.1 response read byte for byte off a ``RawConnection``, so the tests see the
/// headers and body exactly as sent (a faulty answer included).
struct RawHTTPResponse: Sendable {
    var status: Int
    /// Names lowercased; the last value of a repeated header wins.
    var headers: [String: String]
    var body: [UInt8]
    /// Every byte of the response, head included.
    var wireLength: Int

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The first response in `bytes` when it is all there (its length from Content-Length); nil before.
    static func parse(_ bytes: [UInt8]) -> RawHTTPResponse? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headEnd = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyStart = headEnd + separator.count
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        guard bytes.count >= bodyStart + length else { return nil }
        return RawHTTPResponse(status: status, headers: headers, body: Array(bytes[bodyStart..<(bodyStart + length)]),
                               wireLength: bodyStart + length)
    }

    /// `request` as HTTP/1.1 bytes, as ``TestConnection`` would send it.
    static func requestBytes(_ request: TestRequest) -> ByteBuffer {
        var head = "\(request.method.rawValue) \(request.path) HTTP/1.1\r\nhost: localhost\r\n"
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        head += "content-length: \(request.body?.readableBytes ?? 0)\r\n\r\n"
        var bytes = ByteBuffer(string: head)
        if var body = request.body { bytes.writeBuffer(&body) }
        return bytes
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body))
    }

    /// The body split into its JSON header and binary outputs, as a client would.
    func inferResponse() throws -> InferBody.Response {
        try InferBody.decodeResponse(ByteBuffer(bytes: body), headerLength: header(BinaryTensorHeader.headerContentLength).flatMap { Int($0) })
    }
}
