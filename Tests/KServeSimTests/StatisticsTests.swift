import KServeProtocol
import KServeSim
import NIOHTTP1
import Testing

@Suite("Statistics")
struct StatisticsTests {
    /// Sends `perConnection` requests on each of `connections` concurrent keep-alive connections.
    static func load(_ client: TestClient, model: String, batch: Int, connections: Int, perConnection: Int) async throws {
        let request = InferRequest(
            parameters: ["binary_data_output": .bool(true)],
            binaryInputs: [("INPUT0", .fp32, [Int64(batch), 16], rawBytes(Array((0..<batch).map { _ in sixteen }.joined())))])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    try await client.withConnection { connection in
                        for _ in 0..<perConnection {
                            let response = try await connection.send(request.httpRequest(model: model))
                            guard response.status == .ok else { throw TestClientError(response.text) }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func expectPhases(_ stats: ModelStatistics, count: UInt64) {
        let inference = stats.inference_stats
        for phase in [inference.success, inference.queue, inference.compute_input, inference.compute_infer, inference.compute_output] {
            #expect(phase.count.value == count)
        }
        let parts = inference.queue.ns.value + inference.compute_input.ns.value
            + inference.compute_infer.ns.value + inference.compute_output.ns.value
        #expect(inference.success.ns.value >= parts, "request time covers its phases")
        if count > 0 { #expect(inference.compute_infer.ns.value > 0) }
    }

    @Test func countsAreExactUnderConcurrency() async throws {
        try await withSimulator { client in
            let before = try await client.statistics("identity_fp32")
            #expect(before.execution_count.value == 0)
            #expect(before.last_inference?.value == 0)

            try await Self.load(client, model: "identity_fp32", batch: 2, connections: 6, perConnection: 50)
            let after = try await client.statistics("identity_fp32")
            #expect(after.name == "identity_fp32")
            #expect(after.version == "1")
            #expect(after.execution_count.value == 300)
            #expect(after.inference_count.value == 600)
            #expect(after.inference_stats.fail.count.value == 0)
            Self.expectPhases(after, count: 300)
            #expect((after.last_inference?.value ?? 0) > 1_600_000_000_000, "milliseconds since the epoch")

            // A rejected request counts as a failure, not a success.
            let bad = InferRequest(binaryInputs: [("INPUT0", .fp32, [1, 15], rawBytes(Array(sixteen.prefix(15))))])
            #expect(try await client.infer("identity_fp32", bad).status == .badRequest)
            let failed = try await client.statistics("identity_fp32")
            #expect(failed.inference_stats.fail.count.value == 1)
            #expect(failed.inference_stats.success.count.value == 300)
            #expect(failed.inference_stats.success.ns.value == after.inference_stats.success.ns.value)
        }
    }

    @Test func ensembleCountsItsComposingModels() async throws {
        try await withSimulator { client in
            try await Self.load(client, model: "ensemble_fp32", batch: 3, connections: 4, perConnection: 25)
            try await Self.load(client, model: "identity_fp32", batch: 1, connections: 1, perConnection: 7)

            let ensemble = try await client.statistics("ensemble_fp32")
            #expect(ensemble.execution_count.value == 100)
            #expect(ensemble.inference_count.value == 300)
            Self.expectPhases(ensemble, count: 100)

            let identity = try await client.statistics("identity_fp32")
            #expect(identity.execution_count.value == 107)
            #expect(identity.inference_count.value == 307)
            Self.expectPhases(identity, count: 107)

            let double = try await client.statistics("double_fp32")
            #expect(double.execution_count.value == 100)
            #expect(double.inference_count.value == 300)

            let all = try await client.get("/v2/models/stats").decode(StatisticsResponse.self)
            #expect(all.model_stats.map(\.name) == ["identity_fp32", "identity_fp32_image", "identity_int32_dynamic", "identity_bytes", "add_sub",
                                                    "sequence_accumulator", "double_fp32", "ensemble_fp32", "repeat_decoupled"])
            #expect(all.model_stats.first { $0.name == "add_sub" }?.execution_count.value == 0)
            #expect(all.model_stats.first { $0.name == "double_fp32" }?.execution_count.value == 100)
        }
    }

    @Test func delayIsCountedAsComputeTime() async throws {
        let delay = 2_000
        try await withSimulator(delayMicroseconds: delay) { client in
            try await Self.load(client, model: "identity_fp32", batch: 1, connections: 1, perConnection: 5)
            let stats = try await client.statistics("identity_fp32")
            #expect(stats.execution_count.value == 5)
            #expect(stats.inference_stats.compute_infer.ns.value >= 5 * UInt64(delay) * 1000)
            #expect(stats.inference_stats.success.ns.value >= stats.inference_stats.compute_infer.ns.value)

            // The ensemble waits once per composing model.
            try await Self.load(client, model: "ensemble_fp32", batch: 1, connections: 1, perConnection: 3)
            let ensemble = try await client.statistics("ensemble_fp32")
            #expect(ensemble.inference_stats.compute_infer.ns.value >= 3 * 2 * UInt64(delay) * 1000)
        }
    }
}
