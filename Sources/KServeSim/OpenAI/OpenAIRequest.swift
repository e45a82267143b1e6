import Foundation
import KServeProtocol
import NIOCore

/// What the simulator takes from an OpenAI request body: which model, whether to stream,
/// how many tokens to answer with, and how many words the prompt had. Everything else in the
/// body is accepted and ignored, as a server that does not implement it would.
struct OpenAIRequest {
    var endpoint: OpenAIEndpoint
    /// The `model` field, once the body parsed as an object that has one.
    var model: String
    var stream: Bool
    /// `stream_options.include_usage`: a streamed answer then ends with a usage event.
    var includeUsage: Bool
    /// Tokens to answer with: `max_completion_tokens`, `max_tokens`, or the configured default.
    var outputTokens: Int
    /// Whitespace-separated words of the prompt (messages' text, `prompt`, or `input`).
    var promptTokens: Int
    /// Embeddings only: one seed per input, so each input gets its own vector.
    var embeddingSeeds: [UInt64]

    /// Reads `body`; the model name is checked against `settings`, so an unknown one is a 404.
    init(endpoint: OpenAIEndpoint, body: ByteBuffer, settings: OpenAISettings) throws(OpenAIError) {
        self.endpoint = endpoint
        // Not Foundation's decoder: it probes each value's type by throwing, tens of µs a body,
        // spent on the loop that also writes the other requests' tokens.
        guard case .object(let fields)? = try? JSONScanner.parse(Array(body.readableBytesView)) else {
            throw .badRequest("the request body is not a JSON object")
        }
        guard case .string(let model)? = fields["model"] else {
            throw .badRequest("the request needs a \"model\" string")
        }
        guard model == settings.modelName else {
            throw .notFound("The model `\(model)` does not exist.")
        }
        self.model = model
        stream = try Self.flag(fields["stream"], name: "stream")
        if case .object(let options)? = fields["stream_options"] {
            includeUsage = try Self.flag(options["include_usage"], name: "stream_options.include_usage")
        } else {
            includeUsage = false
        }
        embeddingSeeds = []
        switch endpoint {
        case .chatCompletions:
            guard case .array(let messages)? = fields["messages"] else {
                throw .badRequest("the request needs a \"messages\" array")
            }
            promptTokens = try Self.wordsOfMessages(messages)
            // vLLM's rule: the newer name wins when both are there.
            let newer = try Self.count(fields["max_completion_tokens"], name: "max_completion_tokens")
            let older = try Self.count(fields["max_tokens"], name: "max_tokens")
            outputTokens = newer ?? older ?? settings.outputTokens
        case .completions:
            guard let prompt = fields["prompt"], prompt != .null else {
                throw .badRequest("the request needs a \"prompt\"")
            }
            promptTokens = try Self.wordsOfPrompt(prompt, name: "prompt").reduce(0) { $0 + $1.words }
            let asked = try Self.count(fields["max_tokens"], name: "max_tokens")
            outputTokens = asked ?? settings.outputTokens
        default:
            guard let input = fields["input"], input != .null else {
                throw .badRequest("the request needs an \"input\"")
            }
            let inputs = try Self.wordsOfPrompt(input, name: "input")
            promptTokens = inputs.reduce(0) { $0 + $1.words }
            embeddingSeeds = inputs.map(\.seed)
            outputTokens = 0
            stream = false
        }
    }

    /// A boolean field; absent and null read as false.
    private static func flag(_ value: JSONValue?, name: String) throws(OpenAIError) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        default: throw .badRequest("\"\(name)\" must be a boolean")
        }
    }

    /// A token count; absent and null read as nil (use the next choice).
    private static func count(_ value: JSONValue?, name: String) throws(OpenAIError) -> Int? {
        let number: Int64
        switch value {
        case nil, .null?: return nil
        case .int(let given)?: number = given
        case .uint(let given)?: number = Int64(clamping: given)
        default: throw .badRequest("\"\(name)\" must be an integer")
        }
        guard (1...Int64(OpenAISettings.maximumOutputTokens)).contains(number) else {
            throw .badRequest("\"\(name)\" must be in 1...\(OpenAISettings.maximumOutputTokens)")
        }
        return Int(number)
    }

    static func words(_ text: String) -> Int {
        text.split(whereSeparator: \.isWhitespace).count
    }

    /// Every message's text: `content` as a string, or the `text` of its `{"type":"text"}` parts.
    private static func wordsOfMessages(_ messages: [JSONValue]) throws(OpenAIError) -> Int {
        guard !messages.isEmpty else { throw .badRequest("\"messages\" must not be empty") }
        var total = 0
        for message in messages {
            guard case .object(let fields) = message else { throw .badRequest("each message must be an object") }
            switch fields["content"] {
            case .string(let text)?:
                total += words(text)
            case .array(let parts)?:
                for case .object(let part) in parts where part["type"] == .string("text") {
                    if case .string(let text)? = part["text"] { total += words(text) }
                }
            case nil, .null?:
                break
            default:
                throw .badRequest("a message's \"content\" must be a string or an array of parts")
            }
        }
        return total
    }

    /// A prompt or embedding input: a string, an array of strings, or token ids (an array of
    /// integers, one input, or an array of such arrays), each a word here. One entry per input.
    private static func wordsOfPrompt(_ value: JSONValue, name: String) throws(OpenAIError) -> [(words: Int, seed: UInt64)] {
        func isTokenID(_ value: JSONValue) -> Bool {
            if case .int = value { return true }
            if case .uint = value { return true }
            return false
        }
        switch value {
        case .string(let text):
            return [(words(text), seed(text))]
        case .array(let items) where !items.isEmpty && items.allSatisfy(isTokenID):
            return [(items.count, UInt64(items.count))]
        case .array(let items) where !items.isEmpty:
            var inputs: [(words: Int, seed: UInt64)] = []
            for item in items {
                switch item {
                case .string(let text):
                    inputs.append((words(text), seed(text)))
                case .array(let ids) where ids.allSatisfy(isTokenID):
                    inputs.append((ids.count, UInt64(ids.count)))
                default:
                    throw .badRequest("\"\(name)\" must be a string, an array of strings, or token ids")
                }
            }
            return inputs
        default:
            throw .badRequest("\"\(name)\" must be a string, an array of strings, or token ids")
        }
    }

    /// FNV-1a of the text: the same input always gets the same embedding.
    private static func seed(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }
}
