import Foundation

/// What the report needs of one recorded OpenAI event ("data: {…}\n\n"): whether it carried
/// content (a chat delta's or a completion's text) and the usage block's completion tokens.
/// The export is read once, after the run, so plain JSON parsing is fine here.
struct ServerSentEventFacts {
    var hasContent = false
    var completionTokens: Int?

    init(_ event: String) {
        var payloads: [Substring] = []
        for line in event.split(separator: "\n") where line.hasPrefix("data:") {
            payloads.append(line.dropFirst(5).drop { $0 == " " })
        }
        // A whole (non-streamed) answer is recorded as its JSON body.
        if payloads.isEmpty { payloads = [Substring(event)] }
        for payload in payloads where payload != "[DONE]" {
            guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { continue }
            if let usage = object["usage"] as? [String: Any], let count = usage["completion_tokens"] as? Int { completionTokens = count }
            for choice in object["choices"] as? [[String: Any]] ?? [] {
                let delta = choice["delta"] as? [String: Any]
                let text = (delta?["content"] as? String) ?? (choice["text"] as? String) ?? ((choice["message"] as? [String: Any])?["content"] as? String)
                if let text, !text.isEmpty { hasContent = true }
            }
        }
    }
}
