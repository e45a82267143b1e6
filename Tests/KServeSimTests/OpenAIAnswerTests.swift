import Foundation
import KServeSim
import NIOCore
import NIOHTTP1
import Testing

/// Whole (not streamed) answers, embeddings, the model list, error bodies and the statistics
/// endpoint, over loopback.
@Suite("OpenAI answers")
struct OpenAIAnswerTests {
    @Test func wholeChatAnswerCarriesAllTheTextAndUsage() async throws {
        try await withSimulator { client async throws in
            let response = try await client.post("/v1/chat/completions", json: chatBody(content: "four words right here",
                                                                                      extra: #""max_tokens":5"#))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type") == "application/json")
            #expect(response.headers.first(name: "content-length") == String(response.body.readableBytes))
            let answer = try response.json()
            #expect(answer["object"] as? String == "chat.completion")
            #expect((answer["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(answer["model"] as? String == "sim-llm")
            let choice = try #require((answer["choices"] as? [JSONObject])?.first)
            #expect(choice["message"] as? [String: String] == ["role": "assistant", "content": simulatedWords(5).joined()])
            #expect(choice["finish_reason"] as? String == "length")
            #expect(answer["usage"] as? [String: Int] == ["prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9])
        }
    }

    @Test func wholeCompletionUsesTheDefaultLengthWithoutMaxTokens() async throws {
        try await withSimulator { client async throws in
            let answer = try await client.post("/v1/completions", json: completionBody(extra: #""stream":false"#)).json()
            #expect(answer["object"] as? String == "text_completion")
            let choice = try #require((answer["choices"] as? [JSONObject])?.first)
            // The default is 16 tokens.
            #expect(choice["text"] as? String == simulatedWords(16).joined())
            #expect(choice["finish_reason"] as? String == "length")
            #expect(answer["usage"] as? [String: Int] == ["prompt_tokens": 3, "completion_tokens": 16, "total_tokens": 19])
        }
    }

    @Test func wholeAnswerGoesOutWhenItsLastTokenIsDue() async throws {
        let settings = OpenAISettings(timeToFirstToken: .milliseconds(20), interTokenLatency: .milliseconds(10))
        try await withSimulator(openAI: settings) { client async throws in
            let clock = ContinuousClock()
            let start = clock.now
            let response = try await client.post("/v1/completions", json: completionBody(extra: #""max_tokens":5"#))
            let took = clock.now - start
            #expect(response.status == .ok)
            // 20 ms, then four gaps of 10 ms.
            #expect(took >= .milliseconds(60), "answered after \(took)")
            // Generous above: a loaded 2-core machine may run the timers late; a schedule in the wrong unit would be far off.
            #expect(took < .seconds(10), "answered after \(took)")
        }
    }

    @Test func embeddingsGiveEightNumbersPerInput() async throws {
        try await withSimulator(openAI: OpenAISettings(modelName: "sim-embed")) { client async throws in
            let single = try await client.post("/v1/embeddings", json: #"{"model":"sim-embed","input":"one two"}"#)
            #expect(single.status == .ok)
            let one = try single.json()
            #expect(one["object"] as? String == "list")
            #expect(one["model"] as? String == "sim-embed")
            #expect(one["usage"] as? [String: Int] == ["prompt_tokens": 2, "total_tokens": 2])
            let data = try #require(one["data"] as? [JSONObject])
            #expect(data.count == 1)
            #expect(data.first?["object"] as? String == "embedding")
            #expect(data.first?["index"] as? Int == 0)
            let vector = try #require(data.first?["embedding"] as? [Double])
            #expect(vector.count == 8)
            #expect(vector.allSatisfy { (-1..<1).contains($0) })

            let several = try await client.post("/v1/embeddings",
                                                json: #"{"model":"sim-embed","input":["one two","three","four five six"]}"#).json()
            let items = try #require(several["data"] as? [JSONObject])
            #expect(items.compactMap { $0["index"] as? Int } == [0, 1, 2])
            let vectors = items.compactMap { $0["embedding"] as? [Double] }
            #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 8 })
            #expect(vectors.first == vector, "the same input gets the same vector")
            #expect(vectors[1] != vectors[0] && vectors[2] != vectors[1], "different inputs differ")
            #expect(several["usage"] as? [String: Int] == ["prompt_tokens": 6, "total_tokens": 6])
        }
    }

    @Test func modelsListsTheConfiguredModel() async throws {
        let started = Int(Date().timeIntervalSince1970)
        try await withSimulator(openAI: OpenAISettings(modelName: "my-llm")) { client async throws in
            let response = try await client.get("/v1/models")
            let answered = Int(Date().timeIntervalSince1970)
            #expect(response.status == .ok)
            let list = try response.json()
            #expect(list["object"] as? String == "list")
            let models = try #require(list["data"] as? [JSONObject])
            #expect(models.count == 1)
            #expect(models.first?["id"] as? String == "my-llm")
            #expect(models.first?["object"] as? String == "model")
            #expect(models.first?["owned_by"] as? String == "kserve-sim")
            let created = try #require(models.first?["created"] as? Int)
            // The server's start, so between the test's start and the answer, however long a
            // loaded machine kept this test waiting in between.
            #expect((started...answered).contains(created), "created \(created), started \(started), answered \(answered)")

            // A request for the default name now finds no model.
            let refused = try await client.post("/v1/chat/completions", json: chatBody(model: "sim-llm"))
            #expect(refused.status == .notFound)
            #expect(try await client.post("/v1/chat/completions", json: chatBody(model: "my-llm")).status == .ok)
        }
    }

    @Test(arguments: [
        ("/v1/chat/completions", "this is { not json", HTTPResponseStatus.badRequest, "BadRequestError"),
        ("/v1/chat/completions", #"["an","array"]"#, .badRequest, "BadRequestError"),
        ("/v1/chat/completions", #"{"model":"gpt-4"}"#, .notFound, "NotFoundError"),
        ("/v1/chat/completions", #"{"model":"sim-llm"}"#, .badRequest, "BadRequestError"),
        ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}]}"#, .badRequest, "BadRequestError"),
        ("/v1/chat/completions", #"{"model":"sim-llm","messages":[{"role":"user","content":"hi"}],"max_tokens":0}"#,
         .badRequest, "BadRequestError"),
        ("/v1/chat/completions", #"{"model":"sim-llm","messages":[{"role":"user","content":"hi"}],"stream":"yes"}"#,
         .badRequest, "BadRequestError"),
        ("/v1/completions", #"{"model":"sim-llm","max_tokens":3}"#, .badRequest, "BadRequestError"),
        ("/v1/completions", #"{"model":"other","prompt":"hi"}"#, .notFound, "NotFoundError"),
        ("/v1/embeddings", #"{"model":"sim-llm"}"#, .badRequest, "BadRequestError"),
        ("/v1/embeddings", #"{"model":"sim-llm","input":[]}"#, .badRequest, "BadRequestError"),
        ("/v1/nothing-here", "{}", .notFound, "NotFoundError"),
    ])
    func refusedRequestsGetOpenAIErrorBodies(_ path: String, _ body: String, _ status: HTTPResponseStatus,
                                             _ type: String) async throws {
        try await withSimulator { client async throws in
            let response = try await client.post(path, json: body)
            #expect(response.status == status, "\(response.text)")
            #expect(response.headers.first(name: "content-type") == "application/json")
            let error = try response.openAIError()
            #expect(error.type == type)
            #expect(error.code == Int(status.code))
            #expect(!error.message.isEmpty)
        }
    }

    @Test func wrongMethodsAre405WithTheRightOneNamed() async throws {
        try await withSimulator { client async throws in
            for (method, path, allowed) in [(HTTPMethod.GET, "/v1/chat/completions", "POST"), (.GET, "/v1/completions", "POST"),
                                            (.GET, "/v1/embeddings", "POST"), (.POST, "/v1/models", "GET"),
                                            (.DELETE, "/v1/sim/statistics", "GET")] {
                let response = try await client.send(TestRequest(method: method, path: path, body: ByteBuffer(string: "{}")))
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers.first(name: "allow") == allowed)
                let error = try response.openAIError()
                #expect(error.code == 405)
                #expect(error.type == "MethodNotAllowedError")
            }
            // None of them counts as an inference request.
            #expect(try await client.openAIStatistics()["requests"] == 0)
        }
    }

    @Test func statisticsCountWhatWasSent() async throws {
        try await withSimulator { client async throws in
            #expect(try await client.openAIStatistics() == [
                "requests": 0, "succeeded": 0, "failed": 0, "streamed": 0, "prompt_tokens": 0, "completion_tokens": 0,
                "content_events": 0,
            ])
            // Two streams of 3 tokens (prompts of 4 and 1 words), a whole answer of 4 tokens (3 words),
            // embeddings of 2 + 1 words, and a refused body.
            _ = try await client.stream("/v1/chat/completions",
                                        json: chatBody(content: "a b c d", extra: #""stream":true,"max_tokens":3"#))
            _ = try await client.stream("/v1/completions", json: completionBody(
                prompt: #""x""#, extra: #""stream":true,"max_tokens":3,"stream_options":{"include_usage":true}"#))
            #expect(try await client.post("/v1/completions", json: completionBody(extra: #""max_tokens":4"#)).status == .ok)
            #expect(try await client.post("/v1/embeddings", json: #"{"model":"sim-llm","input":["p q","r"]}"#).status == .ok)
            #expect(try await client.post("/v1/completions", json: "nope").status == .badRequest)
            // Control calls are not counted.
            #expect(try await client.get("/v1/models").status == .ok)
            #expect(try await client.openAIStatistics() == [
                "requests": 5, "succeeded": 4, "failed": 1, "streamed": 2, "prompt_tokens": 4 + 1 + 3 + 3,
                "completion_tokens": 3 + 3 + 4, "content_events": 6,
            ])
        }
    }

    @Test func kserveEndpointsAnswerBesideTheOpenAIOnes() async throws {
        try await withSimulator { client async throws in
            #expect(try await client.get("/v2/health/ready").status == .ok)
            #expect(try await client.infer("identity_fp32", InferRequest(
                parameters: ["binary_data_output": .bool(true)],
                binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])).status == .ok)
            #expect(try await client.get("/v1/models").status == .ok)
            #expect(try await client.openAIStatistics()["requests"] == 0, "KServe inference is not counted as OpenAI")
        }
    }
}
