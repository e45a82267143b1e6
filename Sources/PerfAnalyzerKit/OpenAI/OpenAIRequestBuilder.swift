import NIOCore

/// Turns each OpenAI request body into a complete HTTP/1.1 POST to `--endpoint`, once, before
/// the load starts: the slot writes these bytes as they are.
struct OpenAIRequestBuilder {
    /// The path from the URL's prefix and `--endpoint`, with one leading slash.
    var path: String
    var host: String
    var headers: [HeaderField]

    init(endpoint: String, address: ServerAddress, headers: [HeaderField]) {
        let trimmed = endpoint.drop { $0 == "/" }
        path = address.pathPrefix + "/" + trimmed
        host = address.hostHeader
        self.headers = headers
    }

    /// One request built while the run goes (a chat session's turn, whose body holds the chat so far).
    func request(body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString(head + "Content-Length: \(body.count)\r\n\r\n")
        buffer.writeBytes(body)
        return buffer
    }

    /// Everything before the Content-Length line.
    private var head: String {
        var head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n"
        head += "Accept: text/event-stream, application/json\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        return head
    }

    func build(_ payloads: [OpenAIPayload]) -> [PreparedRequest] {
        let head = self.head
        var writer = PreparedBytesWriter()
        var requests = [PreparedRequest?](repeating: nil, count: payloads.count)
        // `-v -v` prints the first request; the others need no text beside their bytes.
        let deliver = { (index: Int, bytes: ByteBuffer) in
            requests[index] = PreparedRequest(bytes: bytes, batchSize: 1,
                                              jsonHeader: index == 0 ? String(decoding: payloads[0].body, as: UTF8.self) : "")
        }
        for (index, payload) in payloads.enumerated() {
            let fullHead = head + "Content-Length: \(payload.body.count)\r\n\r\n"
            writer.write(request: index, byteCount: fullHead.utf8.count + payload.body.count, deliver: deliver) { buffer in
                buffer.writeString(fullHead)
                buffer.writeBytes(payload.body)
            }
        }
        writer.finish(deliver: deliver)
        return requests.map { $0! }
    }
}
