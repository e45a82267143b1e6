import GRPCCore
import GRPCNIOTransportHTTP2
import KServeGRPC
import KServeProtocol
import NIOCore

/// One unit of concurrency over `ModelStreamInfer` (`--streaming`): one bidirectional
/// stream that carries one request at a time. A request ends with its only response, or,
/// for a decoupled model, with the response the server marks final; every response in
/// between is counted. Carries compressed streams and periodic concurrency's (whose many
/// one-request slots share a connection per loop); other streams are `HTTP2StreamSlot`s.
///
/// Confined to `eventLoop`: the driver calls in there, and the stream's tasks prefer it.
final class GRPCStreamSlot: GRPCTaskSlot, @unchecked Sendable {
    private let isDecoupled: Bool
    /// Every response of the request in flight (its time; its bytes when a sink wants them).
    private let responses: ResponseLog

    // The request in flight.
    @exclusivity(unchecked) private var requestID: UInt64 = 0
    @exclusivity(unchecked) private var inFlight: RequestRecord?
    /// Resumed when the request in flight ends or the stream does.
    private let turn = Milestone()

    init(placement: SlotPlacement, connection: GRPCConnection, executor: EventLoopTaskExecutor, requests: [PreparedRequest],
         metadata: Metadata, compression: GRPCCompression, address: ServerAddress, isDecoupled: Bool) {
        self.isDecoupled = isDecoupled
        responses = ResponseLog(keepsBodies: placement.sinks.keepsResponseBodies)
        super.init(placement: placement, connection: connection, executor: executor, requests: requests,
                   metadata: metadata, compression: compression, address: address)
    }

    /// Since the request in flight started or its last response came: a stream that keeps
    /// answering is healthy however long the request runs.
    override var awaitingSinceNs: UInt64 {
        guard let record = inFlight else { return 0 }
        return max(record.startNs, responses.timesNs.last ?? 0)
    }

    override func abandonInFlight(_ outcome: RequestOutcome) {
        end(outcome)
        super.abandonInFlight(outcome)
    }

    /// Opens the stream, sends while active, then half-closes it and lets it finish.
    override func sendWhileActive() async {
        do {
            try await connection.client.bidirectionalStreaming(
                request: StreamingClientRequest(of: OutgoingInferRequest.self, metadata: metadata) { writer in
                    try await self.writeWhileActive(writer)
                },
                descriptor: Inference_GRPCInferenceService.Method.ModelStreamInfer.descriptor,
                serializer: PreparedRequestSerializer(),
                deserializer: StreamResponseDeserializer(decodes: validates, keepsBytes: responses.keepsBodies),
                options: options
            ) { response in
                // However the responses end, the writer must not wait for one more.
                defer { self.turn.reach() }
                for try await message in response.messages { self.received(message) }
            }
            if inFlight != nil { end(.protocolError("the server ended the stream to \(address) while request \(requestID) was in flight")) }
        } catch let error as RPCError {
            let text = "the stream to \(address) closed: \(GRPCLoadFailure.describe(error, address: address))"
            // A stream cancelled to abandon its request has already ended it.
            if inFlight != nil { end(.connectionError(text)) } else if abandonedOutcome == nil { failRun(text) }
        } catch {
            let text = "the stream to \(address) failed: \(error)"
            if inFlight != nil { end(.connectionError(text)) } else if abandonedOutcome == nil { failRun(text) }
        }
        abandonedOutcome = nil
        turn.reach()
    }

    private func writeWhileActive(_ writer: RPCWriter<OutgoingInferRequest>) async throws {
        while maySend, let next = nextTicket() {
            requestID &+= 1
            responses.reset()
            turn.reset()
            var record = beginRecord(next, batchSize: requests[next.request].batchSize)
            record.responses = responses
            record.toFirstResponse = isDecoupled
            inFlight = record
            try await writer.write(OutgoingInferRequest(body: body(for: next), id: requestID))
            inFlight?.sentNs = MonotonicClock.now()
            await turn.wait()
            if inFlight != nil { return }  // the stream ended under the request
        }
    }

    private func received(_ message: StreamedInferResponse) {
        let nowNs = MonotonicClock.now()
        guard var record = inFlight else {
            failRun("the server sent a response on the stream from \(address) with no request in flight")
            return
        }
        if let error = message.summary.errorMessage {
            end(.serverError(error))
            return
        }
        if message.summary.hasOutputs {
            record.responseCount += 1
            if record.firstResponseNs == 0 { record.firstResponseNs = nowNs }
            responses.append(atNs: nowNs, body: message.bytes)
            sinks.responseArrived(record)
            if let decoded = message.decoded, let expected = requests[record.request].expected,
               let mismatch = ResponseValidator.mismatch(response: decoded, expected: expected) {
                inFlight = record
                end(.validationFailure(mismatch))
                return
            }
        }
        inFlight = record
        if !isDecoupled, !message.summary.hasOutputs {
            end(.protocolError("the server's ModelInferResponse has no outputs"))
            return
        }
        // A non-decoupled model answers once; a decoupled one until the final marker.
        let ended = isDecoupled ? message.summary.isFinal ?? false : true
        if ended { end(.success) }
    }

    /// The request in flight ended now with `outcome`.
    private func end(_ outcome: RequestOutcome) {
        if var record = inFlight {
            inFlight = nil
            record.endNs = MonotonicClock.now()
            if record.firstResponseNs == 0, outcome == .success { record.firstResponseNs = record.endNs }
            record.outcome = outcome
            finish(&record)
        }
        turn.reach()
    }
}
