import KServeProtocol
import KServeSim

/// Runs `body` against a fresh simulator on a free port and always stops it after.
func withSimulator<Result: Sendable>(
    delayMicroseconds: Int = 0, recordPath: String? = nil, fault: SimulatorFault? = nil,
    openAI: OpenAISettings = OpenAISettings(), tls: TLSSettings? = nil,
    _ body: (TestClient) async throws -> Result
) async throws -> Result {
    let simulator = KServeSimulator(configuration: SimulatorConfiguration(
        httpPort: 0, grpcPort: 0, delayMicroseconds: delayMicroseconds, threads: 2, recordPath: recordPath, tls: tls,
        fault: fault, openAI: openAI))
    let port = try await simulator.start()
    do {
        let result = try await body(TestClient(port: port))
        try await simulator.stop()
        return result
    } catch {
        try? await simulator.stop()
        throw error
    }
}

extension TestClient {
    func statistics(_ model: String) async throws -> ModelStatistics {
        let response = try await get("/v2/models/\(model)/stats")
        guard response.status == .ok else { throw TestClientError("stats for \(model): \(response.status) \(response.text)") }
        let decoded = try response.decode(StatisticsResponse.self)
        guard decoded.model_stats.count == 1, let stats = decoded.model_stats.first else {
            throw TestClientError("expected one model in \(response.text)")
        }
        return stats
    }
}

let sixteen: [Float] = (0..<16).map { Float($0) + 0.5 }
