import Foundation
import KServeProtocol

/// Why a server did not take a shared-memory call.
enum SharedMemoryCallError: Error, Sendable, CustomStringConvertible {
    /// The server has no such endpoint or RPC: it does not implement the extension.
    case notOffered(String)
    /// The server implements the extension and refused this call, in its own words.
    case refused(String)

    var description: String {
        switch self {
        case .notOffered(let detail), .refused(let detail): return detail
        }
    }
}

extension KServeHTTPClient {
    func registerSystemSharedMemory(name: String, key: String, offset: Int, byteSize: Int) async throws {
        let body = "{\"key\":\(Self.jsonString(key)),\"offset\":\(offset),\"byte_size\":\(byteSize)}"
        try await sharedMemoryCall("/v2/systemsharedmemory/region/\(name)/register", body: body)
    }

    func unregisterSystemSharedMemory(name: String) async throws {
        try await sharedMemoryCall("/v2/systemsharedmemory/region/\(name)/unregister", body: "{}")
    }

    func registerCUDASharedMemory(name: String, rawHandle: [UInt8], deviceID: Int, byteSize: Int) async throws {
        let handle = Data(rawHandle).base64EncodedString()
        let body = "{\"raw_handle\":{\"b64\":\"\(handle)\"},\"device_id\":\(deviceID),\"byte_size\":\(byteSize)}"
        try await sharedMemoryCall("/v2/cudasharedmemory/region/\(name)/register", body: body)
    }

    func unregisterCUDASharedMemory(name: String) async throws {
        try await sharedMemoryCall("/v2/cudasharedmemory/region/\(name)/unregister", body: "{}")
    }

    private func sharedMemoryCall(_ path: String, body: String) async throws {
        let response = try await connection.post(path, json: body)
        switch response.status {
        case 200: return
        // No route at all: the server lacks the extension (a refusal comes back as 400 or 500).
        case 404, 405, 501: throw SharedMemoryCallError.notOffered("POST \(path) answered \(Self.errorText(response))")
        default: throw SharedMemoryCallError.refused(Self.errorText(response))
        }
    }

    private static func jsonString(_ text: String) -> String {
        (try? String(decoding: JSONEncoder().encode(text), as: UTF8.self)) ?? "\"\(text)\""
    }
}
