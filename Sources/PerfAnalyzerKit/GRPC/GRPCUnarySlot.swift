import GRPCCore
import GRPCNIOTransportHTTP2
import KServeGRPC
import KServeProtocol
import NIOCore

/// One unit of concurrency over unary `ModelInfer` through grpc-swift's transport: a task
/// on the slot's event loop that keeps one call outstanding while the slot is active.
/// Slots of one loop share its HTTP/2 connection. Used for compressed calls, which
/// grpc-swift compresses; plain calls take the lighter `HTTP2UnarySlot`.
///
/// Confined to `eventLoop`: the driver calls in there, and the task prefers that loop.
final class GRPCUnarySlot: GRPCTaskSlot, @unchecked Sendable {
    override func sendWhileActive() async {
        while maySend, let ticket = nextTicket() {
            await sendOne(ticket)
        }
    }

    private func sendOne(_ ticket: SendTicket) async {
        let startNs = MonotonicClock.now()
        noteSent(ticket, atNs: startNs)
        var succeeded = false
        do {
            if let failure = try await call(requests[ticket.request], body: body(for: ticket), startNs: startNs) {
                fail(failure)
            } else {
                succeeded = true
            }
        } catch let error as RPCError {
            fail(GRPCLoadFailure.describe(error, address: address))
        } catch {
            fail("request to \(address) failed: \(error)")
        }
        noteEnded(ticket, atNs: MonotonicClock.now(), succeeded: succeeded)
    }

    /// One `ModelInfer` call on a stream of its own, written and read at the transport level:
    /// grpc-swift's client layer (interceptors, retries, typed response sequences) would cost
    /// more per call than the call itself. Returns a failure message, or nil on success.
    private func call(_ request: PreparedRequest, body: ByteBuffer, startNs: UInt64) async throws -> String? {
        try await connection.transport.withStream(descriptor: Inference_GRPCInferenceService.Method.ModelInfer.descriptor,
                                                  options: options) { stream, _ in
            try await stream.outbound.write(contentsOf: [.metadata(self.metadata), .message(GRPCNIOTransportBytes(body.readableBytesView))])
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
