import GRPCCore
import GRPCNIOTransportHTTP2
import KServeGRPC
import KServeProtocol
import NIOCore

/// One unit of concurrency over `ModelStreamInfer` (`--streaming`): one bidirectional
/// stream that carries one request at a time. A request ends with its only response, or,
/// for a decoupled model, with the response the server marks final; every response in
/// between is counted.
///
/// Confined to `eventLoop`: the driver calls in there, and the stream's tasks prefer it.
final class GRPCStreamSlot: GRPCTaskSlot, @unchecked Sendable {
    private let isDecoupled: Bool
    private let timing = RequestTiming()

    // The request in flight.
    private var requestID: UInt64 = 0
    private var inFlight: SendTicket?
    private var startNs: UInt64 = 0
    private var firstResponseNs: UInt64 = 0
    private var responses = 0
    /// Resumed when the request in flight ends or the stream does.
    private let turn = Milestone()

    init(placement: SlotPlacement, connection: GRPCConnection, executor: EventLoopTaskExecutor, requests: [PreparedRequest],
         metadata: Metadata, compression: GRPCCompression, address: ServerAddress, isDecoupled: Bool) {
        self.isDecoupled = isDecoupled
        super.init(placement: placement, connection: connection, executor: executor, requests: requests,
                   metadata: metadata, compression: compression, address: address)
    }

    /// Opens the stream, sends while active, then half-closes it and lets it finish.
    override func sendWhileActive() async {
        do {
            try await connection.client.bidirectionalStreaming(
                request: StreamingClientRequest(of: OutgoingInferRequest.self, metadata: metadata) { writer in
                    try await self.writeWhileActive(writer)
                },
                descriptor: Inference_GRPCInferenceService.Method.ModelStreamInfer.descriptor,
                serializer: PreparedRequestSerializer(timing: timing),
                deserializer: StreamResponseDeserializer(decodes: validates),
                options: options
            ) { response in
                // However the responses end, the writer must not wait for one more.
                defer { self.turn.reach() }
                for try await message in response.messages { self.received(message) }
            }
            if inFlight != nil { finish(failure: "the server ended the stream to \(address) while request \(requestID) was in flight") }
        } catch let error as RPCError {
            let text = "the stream to \(address) closed: \(GRPCLoadFailure.describe(error, address: address))"
            if inFlight != nil { finish(failure: text) } else { fail(text) }
        } catch {
            let text = "the stream to \(address) failed: \(error)"
            if inFlight != nil { finish(failure: text) } else { fail(text) }
        }
        turn.reach()
    }

    private func writeWhileActive(_ writer: RPCWriter<OutgoingInferRequest>) async throws {
        while maySend, let next = nextTicket() {
            requestID &+= 1
            inFlight = next
            responses = 0
            firstResponseNs = 0
            turn.reset()
            startNs = MonotonicClock.now()
            noteSent(next, atNs: startNs)
            try await writer.write(OutgoingInferRequest(body: body(for: next), id: requestID))
            await turn.wait()
            if inFlight != nil { return }  // the stream ended under the request
        }
    }

    private func received(_ message: StreamedInferResponse) {
        let nowNs = MonotonicClock.now()
        guard let ticket = inFlight else {
            fail("the server sent a response on the stream from \(address) with no request in flight")
            return
        }
        let request = requests[ticket.request]
        if let error = message.summary.errorMessage {
            finish(failure: error)
            return
        }
        if message.summary.hasOutputs {
            responses += 1
            if firstResponseNs == 0 { firstResponseNs = nowNs }
            if let decoded = message.decoded, let expected = request.expected,
               let mismatch = ResponseValidator.mismatch(response: decoded, expected: expected) {
                finish(failure: mismatch)
                return
            }
        }
        // A non-decoupled model answers once; a decoupled one until the final marker.
        let ended = isDecoupled ? message.summary.isFinal ?? false : true
        guard ended else { return }
        if isDecoupled {
            let first = firstResponseNs == 0 ? nowNs : firstResponseNs
            recorder.recordDecoupled(firstResponseNs: first &- startNs, lastResponseNs: nowNs &- startNs,
                                     responses: responses, batchSize: request.batchSize)
        } else {
            recorder.recordSuccess(latencyNs: nowNs &- startNs, sendNs: timing.marshalNs, receiveNs: 0, batchSize: request.batchSize)
        }
        finish(failure: nil)
    }

    private func finish(failure: String?) {
        if let failure { fail(failure) }
        if let ticket = inFlight { noteEnded(ticket, atNs: MonotonicClock.now(), succeeded: failure == nil) }
        inFlight = nil
        turn.reach()
    }

}
