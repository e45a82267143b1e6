import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KServeGRPC
import KServeProtocol

/// Typed calls of GRPCInferenceService's control RPCs, answered in the same types the
/// HTTP client returns.
struct KServeGRPCClient: InferenceServerControl {
    let connection: GRPCConnection
    let address: ServerAddress
    /// `-H` headers, sent as metadata (perf_analyzer drops them over gRPC).
    let metadata: Metadata

    private var service: Inference_GRPCInferenceService.Client<HTTP2ClientTransport.Posix> {
        Inference_GRPCInferenceService.Client(wrapping: connection.client)
    }

    func isServerReady() async throws -> Bool {
        try await call { try await service.serverReady(.init(), metadata: metadata, options: .control).ready }
    }

    func serverMetadata() async throws -> ServerMetadata {
        try await call { ServerMetadata(try await service.serverMetadata(.init(), metadata: metadata, options: .control)) }
    }

    func modelMetadata(name: String, version: String) async throws -> ModelMetadata {
        var request = Inference_ModelMetadataRequest()
        request.name = name
        request.version = version
        return try await call { ModelMetadata(try await service.modelMetadata(request, metadata: metadata, options: .control)) }
    }

    func modelConfig(name: String, version: String) async throws -> ModelConfig {
        var request = Inference_ModelConfigRequest()
        request.name = name
        request.version = version
        return try await call { ModelConfig(try await service.modelConfig(request, metadata: metadata, options: .control).config) }
    }

    func statistics(name: String, version: String) async throws -> StatisticsResponse {
        var request = Inference_ModelStatisticsRequest()
        request.name = name
        request.version = version
        return try await call { StatisticsResponse(try await service.modelStatistics(request, metadata: metadata, options: .control)) }
    }

    func allStatistics() async throws -> StatisticsResponse {
        try await call { StatisticsResponse(try await service.modelStatistics(.init(), metadata: metadata, options: .control)) }
    }

    func registerSystemSharedMemory(name: String, key: String, offset: Int, byteSize: Int) async throws {
        var request = Inference_SystemSharedMemoryRegisterRequest()
        request.name = name
        request.key = key
        request.offset = UInt64(offset)
        request.byteSize = UInt64(byteSize)
        try await sharedMemoryCall { _ = try await service.systemSharedMemoryRegister(request, metadata: metadata, options: .control) }
    }

    func unregisterSystemSharedMemory(name: String) async throws {
        var request = Inference_SystemSharedMemoryUnregisterRequest()
        request.name = name
        try await sharedMemoryCall { _ = try await service.systemSharedMemoryUnregister(request, metadata: metadata, options: .control) }
    }

    func registerCUDASharedMemory(name: String, rawHandle: [UInt8], deviceID: Int, byteSize: Int) async throws {
        var request = Inference_CudaSharedMemoryRegisterRequest()
        request.name = name
        request.rawHandle = Data(rawHandle)
        request.deviceID = Int64(deviceID)
        request.byteSize = UInt64(byteSize)
        try await sharedMemoryCall { _ = try await service.cudaSharedMemoryRegister(request, metadata: metadata, options: .control) }
    }

    func unregisterCUDASharedMemory(name: String) async throws {
        var request = Inference_CudaSharedMemoryUnregisterRequest()
        request.name = name
        try await sharedMemoryCall { _ = try await service.cudaSharedMemoryUnregister(request, metadata: metadata, options: .control) }
    }

    func updateTraceSettings(_ settings: TraceSettings) async throws {
        var request = Inference_TraceSettingRequest()
        for setting in settings.settings {
            var value = Inference_TraceSettingRequest.SettingValue()
            value.value = setting.values
            request.settings[setting.name] = value
        }
        _ = try await call { try await service.traceSetting(request, metadata: metadata, options: .control) }
    }

    func close() async {
        await connection.close()
    }

    /// Like `call`, with a missing RPC (the server lacks the extension) told apart from a refusal.
    private func sharedMemoryCall(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as RPCError where error.code == .unimplemented {
            throw SharedMemoryCallError.notOffered("gRPC status unimplemented: \(error.message)")
        } catch let error as RPCError where error.code != .unavailable && error.code != .deadlineExceeded {
            throw SharedMemoryCallError.refused(error.message)
        } catch let error as RPCError {
            throw ConnectionError(address: address, underlying: GRPCFailure(error: error))
        }
    }

    /// Maps gRPC failures onto the errors the run already words: unreachable server or
    /// an answer in the server's words.
    private func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RPCError {
            if error.code == .unavailable || error.code == .deadlineExceeded {
                throw ConnectionError(address: address, underlying: GRPCFailure(error: error))
            }
            throw ServerError(error.message)
        }
    }
}

/// A gRPC status in one line.
struct GRPCFailure: Error, CustomStringConvertible {
    var error: RPCError
    var description: String {
        let text = "gRPC status \(error.code): \(error.message)"
        guard let cause = error.cause else { return text }
        if let reason = TLSFailure.knownReason(in: "\(cause)") { return "TLS failed: \(reason)" }
        return text + " (\(TLSFailure.isTLSError(cause) ? TLSFailure.describe(cause) : "\(cause)"))"
    }
}

extension Metadata {
    /// `-H Name:Value` headers as gRPC metadata (names lowercased, as HTTP/2 requires).
    init(headers: [HeaderField]) {
        self.init()
        for header in headers { addString(header.value, forKey: header.name.lowercased()) }
    }
}
