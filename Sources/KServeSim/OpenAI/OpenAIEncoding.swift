import NIOCore

/// The bytes of one answer's events and bodies, in the shapes vLLM and OpenAI send. The fixed
/// start of every chunk (id, object, created, model) is written once per answer and copied
/// in front of each event.
struct OpenAIEncoding {
    let endpoint: OpenAIEndpoint
    let id: String
    let created: Int
    let model: String
    /// `data: {"id":..,"object":..,"created":..,"model":..,"choices":[`
    private let chunkStart: ByteBuffer

    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    init(endpoint: OpenAIEndpoint, serial: Int, created: Int, model: String) {
        self.endpoint = endpoint
        self.id = (endpoint == .chatCompletions ? "chatcmpl-" : endpoint == .completions ? "cmpl-" : "embd-") + String(serial)
        self.created = created
        self.model = model
        var start = ByteBufferAllocator().buffer(capacity: 128)
        start.writeStaticString("data: ")
        Self.writeHeader(&start, id: id, object: endpoint == .chatCompletions ? "chat.completion.chunk" : "text_completion",
                         created: created, model: model)
        start.writeStaticString(",\"choices\":[")
        chunkStart = start
    }

    private static func writeHeader(_ buffer: inout ByteBuffer, id: String, object: String, created: Int, model: String) {
        buffer.writeStaticString("{\"id\":")
        buffer.writeJSONString(id)
        buffer.writeStaticString(",\"object\":")
        buffer.writeJSONString(object)
        buffer.writeStaticString(",\"created\":")
        buffer.writeDecimal(created)
        buffer.writeStaticString(",\"model\":")
        buffer.writeJSONString(model)
    }

    /// A chunk event around one choice object (written by `choice`), and `tail` after the choices.
    private func event(tail: StaticString = "]}\n\n", _ choice: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = chunkStart
        choice(&buffer)
        buffer.writeStaticString(tail)
        return buffer
    }

    /// Chat only: the assistant's role with empty content, just ahead of the first token (no token itself).
    func roleEvent() -> ByteBuffer {
        event { $0.writeStaticString(#"{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}"#) }
    }

    func tokenEvent(_ index: Int) -> ByteBuffer {
        event { buffer in
            if endpoint == .chatCompletions {
                buffer.writeStaticString(#"{"index":0,"delta":{"content":"#)
                buffer.writeJSONString(SimulatedText.token(index))
                buffer.writeStaticString(#"},"finish_reason":null}"#)
            } else {
                buffer.writeStaticString(#"{"index":0,"text":"#)
                buffer.writeJSONString(SimulatedText.token(index))
                buffer.writeStaticString(#","finish_reason":null}"#)
            }
        }
    }

    /// The last choice event: no content, and why the answer ended (always its length here).
    func finishEvent() -> ByteBuffer {
        event { buffer in
            if endpoint == .chatCompletions {
                buffer.writeStaticString(#"{"index":0,"delta":{},"finish_reason":"length"}"#)
            } else {
                buffer.writeStaticString(#"{"index":0,"text":"","finish_reason":"length"}"#)
            }
        }
    }

    /// Only when the request asked for it: no choices, the answer's token counts.
    func usageEvent(prompt: Int, completion: Int) -> ByteBuffer {
        var buffer = chunkStart
        buffer.writeStaticString("],")
        Self.writeUsage(&buffer, prompt: prompt, completion: completion)
        buffer.writeStaticString("}\n\n")
        return buffer
    }

    static func errorEvent(_ error: OpenAIError) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        var json = error.json
        buffer.writeBuffer(&json)
        buffer.writeStaticString("\n\n")
        return buffer
    }

    private static func writeUsage(_ buffer: inout ByteBuffer, prompt: Int, completion: Int?) {
        buffer.writeStaticString("\"usage\":{\"prompt_tokens\":")
        buffer.writeDecimal(prompt)
        if let completion {
            buffer.writeStaticString(",\"completion_tokens\":")
            buffer.writeDecimal(completion)
        }
        buffer.writeStaticString(",\"total_tokens\":")
        buffer.writeDecimal(prompt + (completion ?? 0))
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// A whole answer, not streamed: all the text, why it ended, and its usage.
    func wholeAnswer(tokens: Int, prompt: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256 + tokens * 8)
        let chat = endpoint == .chatCompletions
        Self.writeHeader(&buffer, id: id, object: chat ? "chat.completion" : "text_completion", created: created, model: model)
        if chat {
            buffer.writeStaticString(#","choices":[{"index":0,"message":{"role":"assistant","content":"#)
            buffer.writeJSONString(SimulatedText.text(tokens: tokens))
            buffer.writeStaticString(#"},"finish_reason":"length"}],"#)
        } else {
            buffer.writeStaticString(#","choices":[{"index":0,"text":"#)
            buffer.writeJSONString(SimulatedText.text(tokens: tokens))
            buffer.writeStaticString(#","finish_reason":"length"}],"#)
        }
        Self.writeUsage(&buffer, prompt: prompt, completion: tokens)
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    /// Embeddings: eight numbers per input, derived from that input's seed.
    func embeddings(seeds: [UInt64], prompt: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 128 + seeds.count * 96)
        buffer.writeStaticString(#"{"object":"list","data":["#)
        for (index, seed) in seeds.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeStaticString(#"{"object":"embedding","index":"#)
            buffer.writeDecimal(index)
            buffer.writeStaticString(#","embedding":["#)
            for (position, value) in Self.vector(seed: seed).enumerated() {
                if position > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                buffer.writeJSONReal(value)
            }
            buffer.writeStaticString("]}")
        }
        buffer.writeStaticString(#"],"model":"#)
        buffer.writeJSONString(model)
        buffer.writeInteger(UInt8(ascii: ","))
        Self.writeUsage(&buffer, prompt: prompt, completion: nil)
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    static let embeddingDimensions = 8

    /// Each byte of the seed's mix gives one number in [-1, 1), exact in binary (a multiple of 1/128).
    static func vector(seed: UInt64) -> [Float] {
        var mixed = seed &+ 0x9e37_79b9_7f4a_7c15
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        mixed ^= mixed >> 31
        return (0..<embeddingDimensions).map { Float(Int((mixed >> (8 * UInt64($0))) & 0xff) - 128) / 128 }
    }
}
