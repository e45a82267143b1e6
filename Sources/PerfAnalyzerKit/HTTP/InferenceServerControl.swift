import KServeProtocol

/// The control plane a run needs from a server, whichever protocol carries it:
/// readiness, metadata, config and statistics.
protocol InferenceServerControl: Sendable {
    func isServerReady() async throws -> Bool
    func serverMetadata() async throws -> ServerMetadata
    func modelMetadata(name: String, version: String) async throws -> ModelMetadata
    func modelConfig(name: String, version: String) async throws -> ModelConfig
    /// One model's statistics (every loaded version when `version` is empty).
    func statistics(name: String, version: String) async throws -> StatisticsResponse
    /// Every loaded model's statistics.
    func allStatistics() async throws -> StatisticsResponse
    func close() async
}

extension KServeHTTPClient: InferenceServerControl {
    func close() async {
        await connection.close()
    }
}
