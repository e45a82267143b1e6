import Foundation
import KServeProtocol

/// The control plane of an in-process Triton: the same questions `InferenceServerControl` asks
/// over HTTP or gRPC, answered by the C API's JSON messages, which have the HTTP endpoints' shape.
/// Closing it stops the server.
struct CAPIControl: InferenceServerControl {
    let server: InProcessTritonServer

    func isServerReady() async throws -> Bool {
        var ready = false
        try server.api.check(server.api.serverIsReady(server.server, &ready), "Triton (in process): asking whether the server is ready")
        return ready
    }

    func serverMetadata() async throws -> ServerMetadata {
        try decode(ServerMetadata.self, "server metadata") { server.api.serverMetadata(server.server, $0) }
    }

    func modelMetadata(name: String, version: String) async throws -> ModelMetadata {
        let number = try InProcessTritonServer.version(version)
        return try decode(ModelMetadata.self, "model metadata") { server.api.modelMetadata(server.server, name, number, $0) }
    }

    func modelConfig(name: String, version: String) async throws -> ModelConfig {
        let number = try InProcessTritonServer.version(version)
        return try decode(ModelConfig.self, "model config") { server.api.modelConfig(server.server, name, number, 1, $0) }
    }

    func statistics(name: String, version: String) async throws -> StatisticsResponse {
        let number = try InProcessTritonServer.version(version)
        return try decode(StatisticsResponse.self, "model statistics") { server.api.modelStatistics(server.server, name, number, $0) }
    }

    func allStatistics() async throws -> StatisticsResponse {
        try decode(StatisticsResponse.self, "model statistics") { server.api.modelStatistics(server.server, "", -1, $0) }
    }

    // The option checks refuse --shared-memory for this kind, so these are never reached.
    func registerSystemSharedMemory(name: String, key: String, offset: Int, byteSize: Int) async throws {
        throw SharedMemoryCallError.notOffered("--service-kind triton_c_api does not register shared memory")
    }

    func unregisterSystemSharedMemory(name: String) async throws {}

    func registerCUDASharedMemory(name: String, rawHandle: [UInt8], deviceID: Int, byteSize: Int) async throws {
        throw SharedMemoryCallError.notOffered("--service-kind triton_c_api does not register shared memory")
    }

    func unregisterCUDASharedMemory(name: String) async throws {}

    func close() async {
        server.stop()
    }

    /// A Triton error becomes a `ServerError`, so callers word it as they word a server's answer.
    private func decode<T: Decodable>(_ type: T.Type, _ what: String,
                                      _ call: (UnsafeMutablePointer<OpaquePointer?>) -> OpaquePointer?) throws -> T {
        let data: Data
        do {
            data = try server.json("", call)
        } catch {
            // The message names what failed: drop the empty "doing" prefix.
            throw ServerError(String(error.description.drop { $0 == ":" || $0 == " " }))
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw ServerError("the in-process server's \(what) could not be read: \(error)")
        }
    }
}
