import Atomics
import KServeProtocol
import NIOConcurrencyHelpers

/// A control call (or connection step) that got no answer in time.
public struct ServerTimeout: Error, CustomStringConvertible {
    /// What was asked, e.g. "GET /v2/health/ready".
    public var what: String
    public var address: ServerAddress
    public var limitMs: Int
    public var description: String {
        "the server at \(address) did not answer \(what) within \(limitMs) ms (--connection-timeout)"
    }
}

/// Runs `body`, but returns (throwing `ServerTimeout`) once `limitMs` have passed without an
/// answer. The call is then cancelled and left to end on its own: a call blocked on a silent
/// connection may not notice cancellation until the connection closes, which the run does on
/// its way out, so the caller must not wait for it.
func withServerDeadline<Value: Sendable>(_ limitMs: Int, what: String, address: ServerAddress,
                                         _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, Error>) in
        let settled = ManagedAtomic(false)
        let call = NIOLockedValueBox<Task<Void, Never>?>(nil)
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(limitMs) * 1_000_000)
            // Cancelled: the call answered first.
            if Task.isCancelled { return }
            if settled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
                call.withLockedValue { $0?.cancel() }
                continuation.resume(throwing: ServerTimeout(what: what, address: address, limitMs: limitMs))
            }
        }
        let task = Task {
            let result: Result<Value, Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            if settled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
                timer.cancel()
                continuation.resume(with: result)
            }
        }
        call.withLockedValue { $0 = task }
    }
}

/// The run's control plane with a deadline on every call, so a server that accepts
/// connections and never answers ends the run with a reason instead of hanging it.
struct DeadlineControl: InferenceServerControl {
    let base: any InferenceServerControl
    let address: ServerAddress
    let limitMs: Int
    /// How a call is named in the timeout line, per protocol.
    let naming: CallNaming

    enum CallNaming: Sendable {
        case http, grpc

        func name(_ rest: String, grpc method: String) -> String {
            self == .http ? rest : "the gRPC call \(method)"
        }
    }

    private func deadline<Value: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await withServerDeadline(limitMs, what: what, address: address, body)
    }

    func isServerReady() async throws -> Bool {
        try await deadline(naming.name("GET \(address.pathPrefix)/v2/health/ready", grpc: "ServerReady")) { try await base.isServerReady() }
    }

    func serverMetadata() async throws -> ServerMetadata {
        try await deadline(naming.name("GET \(address.pathPrefix)/v2", grpc: "ServerMetadata")) { try await base.serverMetadata() }
    }

    func modelMetadata(name: String, version: String) async throws -> ModelMetadata {
        try await deadline(naming.name("the model metadata request", grpc: "ModelMetadata")) {
            try await base.modelMetadata(name: name, version: version)
        }
    }

    func modelConfig(name: String, version: String) async throws -> ModelConfig {
        try await deadline(naming.name("the model config request", grpc: "ModelConfig")) {
            try await base.modelConfig(name: name, version: version)
        }
    }

    func statistics(name: String, version: String) async throws -> StatisticsResponse {
        try await deadline(naming.name("the statistics request", grpc: "ModelStatistics")) {
            try await base.statistics(name: name, version: version)
        }
    }

    func allStatistics() async throws -> StatisticsResponse {
        try await deadline(naming.name("the statistics request", grpc: "ModelStatistics")) { try await base.allStatistics() }
    }

    func registerSystemSharedMemory(name: String, key: String, offset: Int, byteSize: Int) async throws {
        try await deadline(naming.name("the shared-memory registration", grpc: "SystemSharedMemoryRegister")) {
            try await base.registerSystemSharedMemory(name: name, key: key, offset: offset, byteSize: byteSize)
        }
    }

    func unregisterSystemSharedMemory(name: String) async throws {
        try await deadline(naming.name("the shared-memory unregistration", grpc: "SystemSharedMemoryUnregister")) {
            try await base.unregisterSystemSharedMemory(name: name)
        }
    }

    func registerCUDASharedMemory(name: String, rawHandle: [UInt8], deviceID: Int, byteSize: Int) async throws {
        try await deadline(naming.name("the CUDA shared-memory registration", grpc: "CudaSharedMemoryRegister")) {
            try await base.registerCUDASharedMemory(name: name, rawHandle: rawHandle, deviceID: deviceID, byteSize: byteSize)
        }
    }

    func unregisterCUDASharedMemory(name: String) async throws {
        try await deadline(naming.name("the CUDA shared-memory unregistration", grpc: "CudaSharedMemoryUnregister")) {
            try await base.unregisterCUDASharedMemory(name: name)
        }
    }

    func updateTraceSettings(_ settings: TraceSettings) async throws {
        try await deadline(naming.name("POST \(address.pathPrefix)/v2/trace/setting", grpc: "TraceSetting")) {
            try await base.updateTraceSettings(settings)
        }
    }

    /// Closing is bounded by each client itself (a gRPC connection cancels what a silent server
    /// holds after a short grace), and must finish before the event loops shut down.
    func close() async {
        await base.close()
    }
}
