import GRPCCore
import GRPCNIOTransportHTTP2
import KServeGRPC
import KServeProtocol
import NIOCore

/// One unit of concurrency over unary `ModelInfer`: a task on the slot's event loop that
/// keeps one call outstanding while the slot is active. Slots of one loop share its
/// HTTP/2 connection.
///
/// Confined to `eventLoop`: the driver calls in there, and the task prefers that loop.
final class GRPCUnarySlot: ConcurrencySlot, @unchecked Sendable {
    let eventLoop: EventLoop
    private let connection: GRPCConnection
    private let executor: EventLoopTaskExecutor
    private let requests: [PreparedRequest]
    private var nextRequest: Int
    private let recorder: WindowRecorder
    private let counters: LoadCounters
    private let metadata: Metadata
    private let options: CallOptions
    private let address: ServerAddress
    private let validates: Bool

    private var active = false
    private var running = false
    private var idleWaiters: [EventLoopPromise<Void>] = []

    init(placement: SlotPlacement, connection: GRPCConnection, executor: EventLoopTaskExecutor, requests: [PreparedRequest],
         metadata: Metadata, compression: GRPCCompression, address: ServerAddress) {
        precondition(!requests.isEmpty)
        eventLoop = placement.eventLoop
        self.connection = connection
        self.executor = executor
        self.requests = requests
        nextRequest = placement.index % requests.count
        recorder = placement.recorder
        counters = placement.counters
        self.metadata = metadata
        options = .load(compression: compression)
        self.address = address
        validates = requests.contains { $0.expected != nil }
    }

    /// The connection is shared and was checked before the load; nothing to open here.
    func connect() -> EventLoopFuture<Void> {
        eventLoop.makeSucceededVoidFuture()
    }

    func activate() {
        active = true
        guard !running else { return }
        running = true
        Task(executorPreference: executor) { await self.sendWhileActive() }
    }

    func deactivate() -> EventLoopFuture<Void> {
        active = false
        guard running else { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        idleWaiters.append(promise)
        return promise.futureResult
    }

    func close() {
        active = false
    }

    private func sendWhileActive() async {
        while active, !counters.failed.load(ordering: .relaxed), counters.claimSend() {
            await sendOne()
        }
        running = false
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.succeed() }
    }

    private func sendOne() async {
        let request = requests[nextRequest]
        nextRequest += 1
        if nextRequest == requests.count { nextRequest = 0 }
        let startNs = MonotonicClock.now()
        do {
            if let failure = try await call(request, startNs: startNs) { fail(failure) }
        } catch let error as RPCError {
            fail(GRPCLoadFailure.describe(error, address: address))
        } catch {
            fail("request to \(address) failed: \(error)")
        }
        counters.recordCompletion()
    }

    /// One `ModelInfer` call on a stream of its own, written and read at the transport level:
    /// grpc-swift's client layer (interceptors, retries, typed response sequences) would cost
    /// more per call than the call itself. Returns a failure message, or nil on success.
    private func call(_ request: PreparedRequest, startNs: UInt64) async throws -> String? {
        try await connection.transport.withStream(descriptor: Inference_GRPCInferenceService.Method.ModelInfer.descriptor,
                                                  options: options) { stream, _ in
            let body = GRPCNIOTransportBytes(request.bytes.readableBytesView)
            try await stream.outbound.write(contentsOf: [.metadata(self.metadata), .message(body)])
            let sentNs = MonotonicClock.now()
            await stream.outbound.finish()
            var response: Inference_ModelInferResponse?
            var receiveNs: UInt64 = 0
            for try await part in stream.inbound {
                switch part {
                case .metadata:
                    continue
                case .message(let bytes):
                    let arrivedNs = MonotonicClock.now()
                    if self.validates {
                        response = try bytes.withUnsafeBytes { try Inference_ModelInferResponse(serializedBytes: $0) }
                    }
                    receiveNs = MonotonicClock.now() &- arrivedNs
                case .status(let status, _):
                    let endNs = MonotonicClock.now()
                    guard status.code == .ok else {
                        return status.message.isEmpty ? "request failed with gRPC status \(status.code)" : status.message
                    }
                    if let response, let expected = request.expected,
                       let mismatch = ResponseValidator.mismatch(response: response, expected: expected) {
                        return mismatch
                    }
                    self.recorder.recordSuccess(latencyNs: endNs &- startNs, sendNs: sentNs &- startNs, receiveNs: receiveNs,
                                                batchSize: request.batchSize)
                    return nil
                }
            }
            return "the server ended the call to \(self.address) without a status"
        }
    }

    private func fail(_ message: String) {
        recorder.recordFailure(message)
        counters.recordFailure()
        active = false
    }
}

/// The wording of a failed load request over gRPC.
enum GRPCLoadFailure {
    static func describe(_ error: RPCError, address: ServerAddress) -> String {
        switch error.code {
        case .unavailable:
            return "the connection to \(address) was lost: \(GRPCFailure(error: error))"
        default:
            return error.message.isEmpty ? "\(GRPCFailure(error: error))" : error.message
        }
    }
}
