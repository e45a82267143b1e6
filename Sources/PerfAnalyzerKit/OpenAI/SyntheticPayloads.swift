import Foundation
import KServeProtocol

/// Generated request bodies for `--service-kind openai`, so one command line can benchmark a
/// server with no data file: prompts of random words (a seeded generator, so a seed gives the
/// same bodies on every run), `max_tokens` drawn around a mean, streaming on or off.
///
/// Prompt lengths are in words: counting tokens needs the served model's tokenizer.
public struct SyntheticPayloads: Sendable, Equatable {
    /// The body's form, from the endpoint.
    public enum Shape: Sendable, Equatable {
        /// `messages: [{"role": "user", "content": ...}]` (`v1/chat/completions`).
        case chat
        /// `prompt: ...` (`v1/completions`).
        case completion
        /// `input: ...` (`v1/embeddings`).
        case embedding

        public init(endpoint: String) {
            if endpoint.contains("chat") {
                self = .chat
            } else if endpoint.contains("embedding") {
                self = .embedding
            } else {
                self = .completion
            }
        }
    }

    public var model: String
    public var shape: Shape = .chat
    public var promptWordsMean = 100
    public var promptWordsStddev = 0
    public var outputTokensMean = 128
    public var outputTokensStddev = 0
    public var stream = true
    public var entries = 100
    public var seed: UInt64 = 0

    public init(model: String) {
        self.model = model
    }

    func generate() -> [OpenAIPayload] {
        var random = SplitMix64(state: seed ^ 0x5EED_0F_0A1)
        return (0..<entries).map { _ in
            let words = Self.draw(mean: promptWordsMean, stddev: promptWordsStddev, using: &random)
            let tokens = Self.draw(mean: outputTokensMean, stddev: outputTokensStddev, using: &random)
            var prompt: [UInt8] = []
            prompt.reserveCapacity(words * 7)
            for index in 0..<words {
                if index > 0 { prompt.append(0x20) }
                prompt.append(contentsOf: Self.vocabulary[Int(random.next() % UInt64(Self.vocabulary.count))].utf8)
            }
            return OpenAIPayload(body: body(prompt: prompt, maxTokens: tokens))
        }
    }

    private func body(prompt: [UInt8], maxTokens: Int) -> [UInt8] {
        var out: [UInt8] = Array("{\"model\":".utf8)
        JSONText.appendQuoted(model.utf8, to: &out)
        switch shape {
        case .chat:
            out += Array(",\"messages\":[{\"role\":\"user\",\"content\":".utf8)
            JSONText.appendQuoted(prompt, to: &out)
            out += Array("}]".utf8)
        case .completion:
            out += Array(",\"prompt\":".utf8)
            JSONText.appendQuoted(prompt, to: &out)
        case .embedding:
            out += Array(",\"input\":".utf8)
            JSONText.appendQuoted(prompt, to: &out)
            out.append(UInt8(ascii: "}"))
            return out
        }
        out += Array(",\"max_tokens\":\(maxTokens)".utf8)
        if stream {
            out += Array(",\"stream\":true,\"stream_options\":{\"include_usage\":true}".utf8)
        } else {
            out += Array(",\"stream\":false".utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A normal draw (Box–Muller) around `mean`, at least 1.
    static func draw(mean: Int, stddev: Int, using random: inout SplitMix64) -> Int {
        guard stddev > 0 else { return max(1, mean) }
        let u1 = max(Double(random.next() >> 11) / Double(1 << 53), .leastNonzeroMagnitude)
        let u2 = Double(random.next() >> 11) / Double(1 << 53)
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        return max(1, Int((Double(mean) + normal * Double(stddev)).rounded()))
    }

    /// Plain words for prompts.
    static let vocabulary: [String] = """
    time year people way day man thing woman life child world school state family student group country problem hand \
    part place case week company system program question work government number night point home water room mother area \
    money story fact month lot right study book eye job word business issue side kind head house service friend father \
    power hour game line end member law car city community name president team minute idea kid body information back \
    parent face others level office door health person art war history party result change morning reason research girl \
    guy moment air teacher force education foot boy age policy process music market sense nation plan college interest \
    death experience effect use class control care field development role effort rate heart drug show leader light voice \
    wife police mind price report decision son view relationship town road arm difference value building action model \
    season society tax director position player record paper space ground form event official matter center couple site \
    project activity star table need court oil situation cost industry figure street image phone data picture practice \
    piece land product doctor wall patient worker news test movie north love support technology step baby computer type
    """.split(separator: " ").map(String.init)
}
