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

    func close() async {
        await connection.close()
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
        var text = "gRPC status \(error.code): \(error.message)"
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
