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
    /// When the call in flight started; 0 between calls.
    @exclusivity(unchecked) private var callStartNs: UInt64 = 0

    override var awaitingSinceNs: UInt64 { callStartNs }

    override func sendWhileActive() async {
        while maySend, let ticket = nextTicket() {
            await sendOne(ticket)
        }
    }

    private func sendOne(_ ticket: SendTicket) async {
        let request = requests[ticket.request]
        var record = beginRecord(ticket, batchSize: request.batchSize)
        callStartNs = record.startNs
        defer { callStartNs = 0 }
        do {
            record = try await call(request, body: body(for: ticket), record: record)
        } catch let error as RPCError {
            record.outcome = GRPCLoadFailure.outcome(error, address: address)
        } catch {
            record.outcome = .connectionError("request to \(address) failed: \(error)")
        }
        if let abandoned = abandonedOutcome {
            abandonedOutcome = nil
            record.outcome = abandoned
            record.endNs = MonotonicClock.now()
        }
        if record.endNs == 0 { record.endNs = MonotonicClock.now() }
        finish(&record)
    }

    /// One `ModelInfer` call on a stream of its own, written and read at the transport level:
    /// grpc-swift's client layer (interceptors, retries, typed response sequences) would cost
    /// more per call than the call itself. Returns the record with the call's times and outcome.
    private func call(_ request: PreparedRequest, body: ByteBuffer, record: RequestRecord) async throws -> RequestRecord {
        try await connection.transport.withStream(descriptor: Inference_GRPCInferenceService.Method.ModelInfer.descriptor,
                                                  options: options) { stream, _ in
            var record = record
            try await stream.outbound.write(contentsOf: [.metadata(self.metadata), .message(GRPCNIOTransportBytes(body.readableBytesView))])
            record.sentNs = MonotonicClock.now()
            await stream.outbound.finish()
            var response: ByteBuffer?
            var outputsProblem: String? = "the server's answer carried no message"
            for try await part in stream.inbound {
                switch part {
                case .metadata:
                    continue
                case .message(let bytes):
                    if record.firstResponseNs == 0 { record.firstResponseNs = MonotonicClock.now() }
                    if self.validates || self.sinks.keepsResponseBodies { response = bytes.withUnsafeBytes { ByteBuffer(bytes: $0) } }
                    outputsProblem = Self.outputsProblem(bytes)
                case .status(let status, _):
                    record.endNs = MonotonicClock.now()
                    guard status.code == .ok else {
                        record.outcome = .serverError(status.message.isEmpty ? "request failed with gRPC status \(status.code)" : status.message)
                        return record
                    }
                    record.responseCount = 1
                    if let outputsProblem {
                        record.outcome = .protocolError(outputsProblem)
                        return record
                    }
                    if let expected = request.expected {
                        do {
                            let decoded = try Inference_ModelInferResponse(serializedBytes: Array((response ?? ByteBuffer()).readableBytesView))
                            if let mismatch = ResponseValidator.mismatch(response: decoded, expected: expected) {
                                record.outcome = .validationFailure(mismatch)
                            }
                        } catch {
                            record.outcome = .validationFailure("validation of data step \(expected.step): the response is not a ModelInferResponse (\(error))")
                        }
                    }
                    if self.sinks.keepsResponseBodies { record.body = response }
                    return record
                }
            }
            record.endNs = MonotonicClock.now()
            record.outcome = .protocolError("the server ended the call to \(self.address) without a status")
            return record
        }
    }

}

extension GRPCUnarySlot {
    /// Whether a received (already decompressed) message is a `ModelInferResponse` with outputs.
    static func outputsProblem(_ message: GRPCNIOTransportBytes) -> String? {
        message.withUnsafeBytes { bytes -> String? in
            var summary = GRPCResponseScanner.Summary()
            do {
                try GRPCResponseScanner.scanInferResponse(bytes, into: &summary)
            } catch {
                return "the server's answer is not a valid ModelInferResponse"
            }
            return summary.hasOutputs ? nil : "the server's ModelInferResponse has no outputs"
        }
    }
}

/// The wording of a failed load request over gRPC.
enum GRPCLoadFailure {
    static func describe(_ error: RPCError, address: ServerAddress) -> String {
        outcome(error, address: address).failureText ?? ""
    }

    /// A lost connection, or the server's own error.
    static func outcome(_ error: RPCError, address: ServerAddress) -> RequestOutcome {
        switch error.code {
        case .unavailable:
            return .connectionError("the connection to \(address) was lost: \(GRPCFailure(error: error))")
        default:
            return .serverError(error.message.isEmpty ? "\(GRPCFailure(error: error))" : error.message)
        }
    }
}
