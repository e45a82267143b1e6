import KServeProtocol

/// The control plane a run needs from a server, whichever protocol carries it:
/// readiness, metadata, config, statistics and shared-memory regions.
protocol InferenceServerControl: Sendable {
    func isServerReady() async throws -> Bool
    func serverMetadata() async throws -> ServerMetadata
    func modelMetadata(name: String, version: String) async throws -> ModelMetadata
    func modelConfig(name: String, version: String) async throws -> ModelConfig
    /// One model's statistics (every loaded version when `version` is empty).
    func statistics(name: String, version: String) async throws -> StatisticsResponse
    /// Every loaded model's statistics.
    func allStatistics() async throws -> StatisticsResponse
    /// Shared-memory regions; failures are ``SharedMemoryCallError``s.
    func registerSystemSharedMemory(name: String, key: String, offset: Int, byteSize: Int) async throws
    func unregisterSystemSharedMemory(name: String) async throws
    func registerCUDASharedMemory(name: String, rawHandle: [UInt8], deviceID: Int, byteSize: Int) async throws
    func unregisterCUDASharedMemory(name: String) async throws
    /// Triton's global trace settings (`--trace-*`); failures are ``ServerError``s.
    func updateTraceSettings(_ settings: TraceSettings) async throws
    func close() async
}

extension InferenceServerControl {
    func updateTraceSettings(_ settings: TraceSettings) async throws {
        throw ServerError("this service kind takes no trace settings")
    }
}

extension KServeHTTPClient: InferenceServerControl {
    func close() async {
        await connection.close()
    }
}
