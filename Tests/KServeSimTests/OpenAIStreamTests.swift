import Foundation
import KServeSim
import NIOCore
import NIOHTTP1
import Testing

/// Streamed chat and completions answers over loopback: the order and shape of the events,
/// the token count, the usage event only when asked for, and the timing of the tokens.
@Suite("OpenAI streamed answers")
struct OpenAIStreamTests {
    /// The choice of a chunk event, after checking the fields every chunk carries.
    static func choice(_ event: ArrivedEvent, object: String, id: String) throws -> JSONObject {
        let chunk = try event.json()
        #expect(chunk["object"] as? String == object)
        #expect(chunk["id"] as? String == id)
        #expect(chunk["model"] as? String == "sim-llm")
        #expect(chunk["created"] as? Int != nil)
        let choices = try #require(chunk["choices"] as? [JSONObject], "\(event.data)")
        #expect(choices.count == 1)
        #expect(choices.first?["index"] as? Int == 0)
        return try #require(choices.first)
    }

    @Test func streamedChatSendsRoleTokensFinishAndDone() async throws {
        try await withSimulator { client async throws in
            let answer = try await client.stream("/v1/chat/completions", json: chatBody(extra: #""stream":true,"max_tokens":5"#))
            #expect(answer.status == .ok)
            #expect(answer.headers.first(name: "content-type") == "text/event-stream")
            #expect(answer.headers.first(name: "transfer-encoding") == "chunked")
            #expect(answer.headers.first(name: "content-length") == nil)
            #expect(answer.leftover.isEmpty)
            // Role, five tokens, finish, [DONE]: no usage event without stream_options.
            try #require(answer.events.count == 8, "\(answer.events.map(\.data))")
            let id = try #require(try answer.events[0].json()["id"] as? String)
            #expect(id.hasPrefix("chatcmpl-"))

            let role = try Self.choice(answer.events[0], object: "chat.completion.chunk", id: id)
            #expect(role["delta"] as? [String: String] == ["role": "assistant", "content": ""])
            #expect(role["finish_reason"] is NSNull)

            var words: [String] = []
            for event in answer.events[1...5] {
                let choice = try Self.choice(event, object: "chat.completion.chunk", id: id)
                let delta = try #require(choice["delta"] as? [String: String])
                #expect(delta.count == 1, "a token's delta carries its content only: \(delta)")
                words.append(try #require(delta["content"]))
                #expect(choice["finish_reason"] is NSNull)
            }
            #expect(words == simulatedWords(5))

            let finish = try Self.choice(answer.events[6], object: "chat.completion.chunk", id: id)
            #expect((finish["delta"] as? JSONObject)?.isEmpty == true)
            #expect(finish["finish_reason"] as? String == "length")
            #expect(answer.events[7].isDone)
        }
    }

    @Test func streamedChatEndsWithUsageWhenAsked() async throws {
        // Prompt words: 3 in the system message, 2 + 1 in the text parts; the image part is no text.
        let body = #"""
            {"model":"sim-llm","stream":true,"max_completion_tokens":4,"max_tokens":9,
             "stream_options":{"include_usage":true},
             "messages":[{"role":"system","content":"be very brief"},
                         {"role":"user","content":[{"type":"text","text":"two words"},
                                                   {"type":"image_url","image_url":{"url":"http://x/y.png"}},
                                                   {"type":"text","text":" one "}]}]}
            """#
        try await withSimulator { client async throws in
            let answer = try await client.stream("/v1/chat/completions", json: body)
            // max_completion_tokens wins over max_tokens: role, 4 tokens, finish, usage, [DONE].
            try #require(answer.events.count == 8, "\(answer.events.map(\.data))")
            let usageChunk = try answer.events[6].json()
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            let usage = try #require(usageChunk["usage"] as? [String: Int])
            #expect(usage == ["prompt_tokens": 6, "completion_tokens": 4, "total_tokens": 10])
            #expect(answer.events[7].isDone)
            // Nothing but the finish event between the last token and the usage.
            #expect(try Self.choice(answer.events[5], object: "chat.completion.chunk",
                                    id: usageChunk["id"] as? String ?? "")["finish_reason"] as? String == "length")
        }
    }

    @Test func streamedCompletionsUseTheDefaultLengthAndNoRoleEvent() async throws {
        try await withSimulator(openAI: OpenAISettings(outputTokens: 7)) { client async throws in
            let answer = try await client.stream("/v1/completions", json: completionBody(
                prompt: #"["first prompt here", "and a second"]"#, extra: #""stream":true,"stream_options":{"include_usage":true}"#))
            // Seven tokens (the configured default), finish, usage, [DONE].
            try #require(answer.events.count == 10, "\(answer.events.map(\.data))")
            let id = try #require(try answer.events[0].json()["id"] as? String)
            #expect(id.hasPrefix("cmpl-"))
            var words: [String] = []
            for event in answer.events[0..<7] {
                let choice = try Self.choice(event, object: "text_completion", id: id)
                words.append(try #require(choice["text"] as? String))
                #expect(choice["finish_reason"] is NSNull)
            }
            #expect(words == simulatedWords(7))
            let finish = try Self.choice(answer.events[7], object: "text_completion", id: id)
            #expect(finish["text"] as? String == "")
            #expect(finish["finish_reason"] as? String == "length")
            #expect(try answer.events[8].json()["usage"] as? [String: Int]
                    == ["prompt_tokens": 6, "completion_tokens": 7, "total_tokens": 13])
            #expect(answer.events[9].isDone)
        }
    }

    @Test func keepAliveCarriesOneStreamAfterAnother() async throws {
        try await withSimulator { client async throws in
            try await client.withConnection { connection in
                for tokens in [2, 3] {
                    let request = TestRequest(method: .POST, path: "/v1/completions",
                                              body: ByteBuffer(string: completionBody(extra: #""stream":true,"max_tokens":\#(tokens)"#)))
                    let answer = try await connection.stream(request)
                    #expect(answer.events.count == tokens + 2, "\(answer.events.map(\.data))")
                }
                // And an ordinary request after them on the same connection.
                #expect(try await connection.send(TestRequest(path: "/v1/models")).status == .ok)
            }
        }
    }

    @Test func tokensArriveOnTheConfiguredSchedule() async throws {
        let settings = OpenAISettings(timeToFirstToken: .milliseconds(20), interTokenLatency: .milliseconds(10))
        try await withSimulator(openAI: settings) { client async throws in
            let answer = try await client.stream("/v1/chat/completions", json: chatBody(extra: #""stream":true,"max_tokens":6"#))
            try #require(answer.events.count == 9)
            let tokens = Array(answer.events[1...6])
            let first = tokens[0].at
            #expect(first >= .milliseconds(20), "first token after \(first)")
            // Upper bounds only catch gross errors: the whole suite shares two cores.
            #expect(first < .seconds(10), "first token after \(first)")
            // The role event comes with the first token, not before it.
            #expect(answer.events[0].at >= .milliseconds(20))
            // Token k is due 20 + 10k ms after the request: none may arrive earlier. (Only lower bounds
            // per token: a client starved of CPU may read several tokens at once, so gaps can shrink.)
            for (index, token) in tokens.enumerated() {
                #expect(token.at >= .milliseconds(20 + 10 * index), "token \(index) after \(token.at)")
            }
            let last = tokens[5].at
            #expect(last < .seconds(10), "last token after \(last)")
        }
    }

    @Test func tokenGapsAreAboutTheConfiguredLatency() async throws {
        // Gaps far wider than scheduling noise. A client starved of CPU reads the first token late and
        // the gaps look shorter, never longer, so the widest spread of a few tries is the honest one;
        // on a machine busy with the other suites three tries were once all starved.
        let settings = OpenAISettings(interTokenLatency: .milliseconds(60))
        try await withSimulator(openAI: settings) { client async throws in
            var spreads: [Duration] = []
            for _ in 0..<8 {
                let answer = try await client.stream("/v1/completions", json: completionBody(extra: #""stream":true,"max_tokens":4"#))
                try #require(answer.events.count == 6)
                let tokens = Array(answer.events[0..<4])
                #expect(tokens[3].at >= .milliseconds(180), "last token after \(tokens[3].at)")
                #expect(tokens[3].at < .milliseconds(180 + 10_000), "last token after \(tokens[3].at)")
                spreads.append(tokens[3].at - tokens[0].at)
                if spreads.last! >= .milliseconds(150) { break }
            }
            // Three gaps of 60 ms.
            #expect(spreads.max()! >= .milliseconds(150), "tokens spread over \(spreads)")
            #expect(spreads.max()! < .seconds(10), "tokens spread over \(spreads)")
        }
    }

    @Test func aFractionalFirstTokenWaitIsKept() async throws {
        try await withSimulator(openAI: OpenAISettings(timeToFirstToken: .microseconds(500))) { client async throws in
            let answer = try await client.stream("/v1/completions", json: completionBody(extra: #""stream":true,"max_tokens":1"#))
            try #require(answer.events.count == 3)
            #expect(answer.events[0].at >= .microseconds(500))
            #expect(answer.events[0].at < .seconds(10))
        }
    }

    @Test func aClientLeavingMidStreamIsAFailure() async throws {
        // A stream of 20 s, so the client leaves mid-stream even when the machine is busy enough
        // to hold this test up for seconds (it runs beside every other suite).
        let settings = OpenAISettings(interTokenLatency: .milliseconds(100))
        try await withSimulator(openAI: settings) { client async throws in
            try await RawConnection.with(port: client.port) { connection in
                try await connection.send(RawHTTPResponse.requestBytes(TestRequest(
                    method: .POST, path: "/v1/completions",
                    body: ByteBuffer(string: completionBody(extra: #""stream":true,"max_tokens":200"#)))))
                _ = try await connection.wait(atMost: .seconds(5)) {
                    String(decoding: $0.bytes, as: UTF8.self).components(separatedBy: "\"text\":").count > 3
                }
            }
            // The server notices the close and stops: the request failed, with only some of its tokens sent.
            var statistics: [String: Int] = [:]
            for _ in 0..<100 {
                statistics = try await client.openAIStatistics()
                if statistics["failed"] == 1 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(statistics["requests"] == 1)
            #expect(statistics["failed"] == 1)
            #expect(statistics["succeeded"] == 0)
            let sent = try #require(statistics["content_events"])
            #expect(sent >= 2 && sent < 200, "\(sent) tokens sent")
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await client.openAIStatistics()["content_events"] == sent, "nothing sent after the close")
        }
    }

    @Test func streamsOverTLS() async throws {
        var client = TestClient(port: 0)
        client.tls = try TestCertificates.httpsClientContext(withCertificate: false)
        client.serverHostname = "localhost"
        try await withSimulator(tls: try TestCertificates.serverSettings()) { plain async throws in
            var https = client
            https = TestClient(port: plain.port, tls: client.tls, serverHostname: "localhost")
            let answer = try await https.stream("/v1/chat/completions", json: chatBody(extra: #""stream":true,"max_tokens":3"#))
            #expect(answer.events.count == 6)
            #expect(answer.events.last?.isDone == true)
        }
    }
}
