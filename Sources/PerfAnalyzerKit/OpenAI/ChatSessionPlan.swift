import Foundation

/// `--session-concurrency`: the input data's entries grouped into multi-turn chats by
/// `session_id` (in the order each session first appears, turns in file order), with what each
/// turn's body needs to carry the chat so far: where its `messages` array sits and the bytes of
/// each message it adds. Built and checked once, before the run.
struct ChatSessionPlan: Sendable {
    struct Turn: Sendable {
        /// The entry's index in the input data (its prepared request, for the export).
        var payload: Int
        /// The body before and after its `messages` array.
        var head: [UInt8]
        var tail: [UInt8]
        /// The messages this turn adds to the chat, each a JSON object's bytes.
        var messages: [[UInt8]]
        /// How long to wait after this turn's answer before the next turn (nil on a last turn).
        var delayNs: UInt64?
        var sessionID: String
    }

    var sessions: [[Turn]]

    var turnCount: Int { sessions.reduce(0) { $0 + $1.count } }

    struct PlanError: Error, CustomStringConvertible {
        var description: String
    }

    init(payloads: [OpenAIPayload]) throws(PlanError) {
        var order: [String] = []
        var grouped: [String: [Turn]] = [:]
        for (index, payload) in payloads.enumerated() {
            guard let session = payload.sessionID else {
                throw PlanError(description: "--session-concurrency: --input-data: data[\(index)] has no 'session_id' (the chat it is a turn of)")
            }
            guard let split = Self.splitMessages(payload.body) else {
                throw PlanError(description: "--session-concurrency: --input-data: data[\(index)].payload must be an object with a 'messages' array of message objects (a chat request)")
            }
            if grouped[session] == nil { order.append(session) }
            grouped[session, default: []].append(Turn(payload: index, head: split.head, tail: split.tail, messages: split.messages,
                                                      delayNs: payload.delayMs.map { $0 * 1_000_000 }, sessionID: session))
        }
        sessions = order.map { grouped[$0]! }
        for session in sessions {
            for turn in session.dropLast() where turn.delayNs == nil {
                throw PlanError(description: "--session-concurrency: --input-data: data[\(turn.payload)] has no 'delay' (msec between its answer and the session's next turn; only a session's last turn may leave it out)")
            }
        }
    }

    /// The body of one turn: its own fields, with `messages` replaced by the chat so far.
    static func body(_ turn: Turn, history: [[UInt8]]) -> [UInt8] {
        var out = turn.head
        out.append(UInt8(ascii: "["))
        for (index, message) in history.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += message
        }
        out.append(UInt8(ascii: "]"))
        out += turn.tail
        return out
    }

    /// The first answer choice's `message` of a whole (not streamed) chat answer, compact.
    static func answerMessage(_ body: [UInt8]) -> [UInt8]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let choices = object["choices"] as? [Any], let first = choices.first as? [String: Any],
              let message = first["message"] as? [String: Any],
              let data = try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        return Array(data)
    }

    /// Splits a compact body around its top-level `messages` array; nil when it has none.
    static func splitMessages(_ body: [UInt8]) -> (head: [UInt8], tail: [UInt8], messages: [[UInt8]])? {
        var bytes = body + [0]
        return bytes.withUnsafeMutableBufferPointer { buffer -> (head: [UInt8], tail: [UInt8], messages: [[UInt8]])? in
            var scanner = JSONByteScanner(sentinelTerminated: UnsafeBufferPointer(buffer))
            do throws(JSONLoadFailure) {
                guard scanner.current == UInt8(ascii: "{") else { return nil }
                scanner.pos += 1
                scanner.skipWhitespace()
                while scanner.current == UInt8(ascii: "\"") {
                    var key: [UInt8] = []
                    try scanner.readString(appendingTo: &key)
                    scanner.skipWhitespace()
                    try scanner.expect(UInt8(ascii: ":"), "expected ':'")
                    scanner.skipWhitespace()
                    if key == Array("messages".utf8) {
                        guard scanner.current == UInt8(ascii: "[") else { return nil }
                        let start = scanner.pos
                        scanner.pos += 1
                        scanner.skipWhitespace()
                        var messages: [[UInt8]] = []
                        while scanner.current != UInt8(ascii: "]") {
                            guard scanner.current == UInt8(ascii: "{") else { return nil }
                            let elementStart = scanner.pos
                            try scanner.skipValue()
                            messages.append(Array(buffer[elementStart..<scanner.pos]))
                            scanner.skipWhitespace()
                            if scanner.current == UInt8(ascii: ",") {
                                scanner.pos += 1
                                scanner.skipWhitespace()
                            } else if scanner.current != UInt8(ascii: "]") {
                                return nil
                            }
                        }
                        scanner.pos += 1
                        return (Array(buffer[0..<start]), Array(buffer[scanner.pos..<(buffer.count - 1)]), messages)
                    }
                    try scanner.skipValue()
                    scanner.skipWhitespace()
                    guard scanner.current == UInt8(ascii: ",") else { return nil }
                    scanner.pos += 1
                    scanner.skipWhitespace()
                }
                return nil
            } catch {
                return nil
            }
        }
    }
}
