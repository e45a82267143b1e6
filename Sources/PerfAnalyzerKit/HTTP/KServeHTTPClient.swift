import Foundation
import KServeProtocol
import NIOCore

/// An error the server answered with, in its own words.
public struct ServerError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Typed calls of the KServe v2 HTTP control endpoints.
public struct KServeHTTPClient: Sendable {
    public let connection: HTTPControlClient

    public init(connection: HTTPControlClient) {
        self.connection = connection
    }

    static func modelPath(_ name: String, _ version: String) -> String {
        version.isEmpty ? "/v2/models/\(name)" : "/v2/models/\(name)/versions/\(version)"
    }

    public func isServerReady() async throws -> Bool {
        try await connection.get("/v2/health/ready").status == 200
    }

    public func serverMetadata() async throws -> ServerMetadata {
        try await decode(ServerMetadata.self, path: "/v2", what: "server metadata")
    }

    /// Nil when the model is ready; otherwise the server's reason.
    public func modelNotReadyReason(name: String, version: String) async throws -> String? {
        let response = try await connection.get(Self.modelPath(name, version) + "/ready")
        if response.status == 200 { return nil }
        return Self.errorText(response)
    }

    public func modelMetadata(name: String, version: String) async throws -> ModelMetadata {
        try await decode(ModelMetadata.self, path: Self.modelPath(name, version), what: "model metadata")
    }

    public func modelConfig(name: String, version: String) async throws -> ModelConfig {
        try await decode(ModelConfig.self, path: Self.modelPath(name, version) + "/config", what: "model config")
    }

    /// Statistics of one model (every loaded version when `version` is empty).
    public func statistics(name: String, version: String) async throws -> StatisticsResponse {
        try await decode(StatisticsResponse.self, path: Self.modelPath(name, version) + "/stats", what: "model statistics")
    }

    /// Statistics of every model the server has loaded.
    public func allStatistics() async throws -> StatisticsResponse {
        try await decode(StatisticsResponse.self, path: "/v2/models/stats", what: "model statistics")
    }

    /// POST /v2/trace/setting: the levels as a list, every other setting as a string.
    public func updateTraceSettings(_ settings: TraceSettings) async throws {
        let fields = settings.settings.map { setting -> String in
            let values = setting.values.map { "\"\($0)\"" }
            return "\"\(setting.name)\":" + (setting.name == "trace_level" ? "[\(values.joined(separator: ","))]" : values[0])
        }
        let response = try await connection.post("/v2/trace/setting", json: "{" + fields.joined(separator: ",") + "}")
        guard response.status == 200 else { throw ServerError(Self.errorText(response)) }
    }

    private func decode<T: Decodable>(_ type: T.Type, path: String, what: String) async throws -> T {
        let response = try await connection.get(path)
        guard response.status == 200 else { throw ServerError(Self.errorText(response)) }
        do {
            return try JSONDecoder().decode(type, from: Data(response.body.readableBytesView))
        } catch {
            throw ServerError("the server's \(what) at \(path) could not be read: \(error)")
        }
    }

    static func errorText(_ response: HTTPControlClient.Response) -> String {
        if let decoded = try? JSONDecoder().decode(ErrorResponse.self, from: Data(response.body.readableBytesView)) {
            return decoded.error
        }
        let text = response.text
        return text.isEmpty ? "HTTP \(response.status)" : "HTTP \(response.status): \(text.prefix(500))"
    }
}
