import Foundation

/// What an OpenAI-compatible server says about itself, read with curl (the test's own client,
/// independent of the code under test): kserve-sim's counts and its record lines.
enum OpenAIServerProbe {
    struct Statistics: Decodable {
        var requests: Int
        var succeeded: Int
        var failed: Int
        var streamed: Int
        var prompt_tokens: Int
        var completion_tokens: Int
        var content_events: Int
    }

    /// One line of kserve-sim's `--record` file for an OpenAI request.
    struct RecordLine: Decodable {
        var body: String
        var endpoint: String
        var stream: Bool
        var tokens_sent: Int?
        var first_token_ns: UInt64?
        var last_token_ns: UInt64?
        var prompt_tokens: Int?
        var time_ns: UInt64
        var succeeded: Bool
    }

    static func get(_ url: String) async throws -> Data {
        let result = try await CommandRunner.run("/usr/bin/curl", ["-sk", "--max-time", "10", url], timeout: 20)
        guard result.status == 0 else { throw ProbeError(message: "curl \(url) failed: \(result.stderr)") }
        return Data(result.stdout.utf8)
    }

    static func statistics(_ sim: SimulatorProcess) async throws -> Statistics {
        let scheme = sim.usesTLS ? "https" : "http"
        return try JSONDecoder().decode(Statistics.self, from: await get("\(scheme)://127.0.0.1:\(sim.port)/v1/sim/statistics"))
    }

    static func records(_ path: String) throws -> [RecordLine] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(RecordLine.self, from: Data($0.utf8)) }
    }

    struct ProbeError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// A `--input-data` file of OpenAI request bodies.
func openAIInputData(_ bodies: [String], extra: [String] = []) throws -> String {
    let entries = bodies.enumerated().map { index, body in
        "{\"payload\": [\(body)]\(index < extra.count ? ", " + extra[index] : "")}"
    }
    return try temporaryFile("{\"data\": [\n" + entries.joined(separator: ",\n") + "\n]}")
}

/// `label: avg A usec, p50 B usec, ...`: the figure after `key` on the line starting with `label`.
func llmFigure(_ label: String, _ key: String, in text: String) -> Double? {
    guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label + ":") }),
          let range = line.range(of: key + " ") else { return nil }
    return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
}
