import KServeProtocol
import NIOCore

/// One unit of concurrency of `--service-kind triton_c_api`: one inference request at a time,
/// handed to the in-process server with TRITONSERVER_ServerInferAsync. Triton answers on its own
/// threads; the callback notes the time there and hops to the slot's event loop, where the record
/// ends as every slot's does.
///
/// Confined to `eventLoop`, like every slot.
final class CAPISlot: SlotCore, ConcurrencySlot, @unchecked Sendable {
    /// What every slot of a run shares.
    struct Shared: Sendable {
        var server: InProcessTritonServer
        var table: CAPIRequestTable
        var requests: [PreparedRequest]
        var modelName: String
        var modelVersion: Int64
        var isDecoupled: Bool
        /// `--request-parameter`, set on every request (none: the loop does nothing).
        var parameters: CAPIRequestParameters
    }

    let shared: Shared
    private let api: TritonServerAPI
    @exclusivity(unchecked) private var inFlight = false
    /// Counts requests, so a response of a request that was abandoned is told from the current one's.
    @exclusivity(unchecked) private var serial: UInt64 = 0
    @exclusivity(unchecked) private var record = RequestRecord(ticket: SendTicket(request: 0), startNs: 0, batchSize: 0)
    private let responses: ResponseLog?
    /// Whether Triton's callback copies each response's outputs out for this slot: only when
    /// the run validates them or exports them, so the plain load never touches them.
    let readsOutputs: Bool

    init(placement: SlotPlacement, shared: Shared) {
        self.shared = shared
        api = shared.server.api
        readsOutputs = placement.sinks.keepsResponseBodies || shared.requests.contains { $0.expected != nil }
        responses = shared.isDecoupled ? ResponseLog(keepsBodies: placement.sinks.keepsResponseBodies) : nil
        super.init(placement: placement)
    }

    override func resume() { pump() }

    override var isBusy: Bool { inFlight }

    override var awaitingSinceNs: UInt64 {
        guard inFlight else { return 0 }
        return max(record.startNs, responses?.timesNs.last ?? 0)
    }

    /// Triton cannot take a request back; its answer, when it comes, is ignored.
    override func abandonInFlight(_ outcome: RequestOutcome) {
        guard inFlight else { return }
        end(outcome, atNs: MonotonicClock.now())
    }

    func pump() {
        guard maySend, !inFlight, let next = nextTicket() else { return }
        serial &+= 1
        inFlight = true
        responses?.reset()
        beginRecord(next, batchSize: shared.requests[next.request].batchSize, in: &record)
        record.responses = responses
        record.toFirstResponse = shared.isDecoupled
        if let failure = send(next) {
            end(.serverError(failure), atNs: MonotonicClock.now())
            return
        }
        record.sentNs = MonotonicClock.now()
    }

    /// Builds the request and hands it to Triton; the failure's text if Triton refused it.
    private func send(_ ticket: SendTicket) -> String? {
        let api = self.api
        var request: OpaquePointer?
        if let error = api.requestNew(&request, shared.server.server, shared.modelName, shared.modelVersion) {
            return take(error)
        }
        func abandon(_ error: OpaquePointer) -> String {
            _ = api.requestDelete(request).map { api.errorDelete($0) }
            return take(error)
        }
        let apiPointer = Unmanaged.passUnretained(api).toOpaque()
        if let error = api.requestSetReleaseCallback(request, CAPICallbacks.requestReleased, apiPointer) { return abandon(error) }
        for index in shared.table.ranges[ticket.request] {
            let input = shared.table.inputs[index]
            if let error = api.requestAddInput(request, input.name, input.datatype, input.shape, input.dimensionCount) { return abandon(error) }
            if let error = api.requestAppendInputData(request, input.name, input.bytes, input.byteCount, TritonServerAPI.memoryCPU, 0) {
                return abandon(error)
            }
        }
        for parameter in shared.parameters.parameters {
            let error: OpaquePointer?
            switch parameter.value {
            case .string(let value): error = api.requestSetStringParameter(request, parameter.name, value)
            case .int(let value): error = api.requestSetIntParameter(request, parameter.name, value)
            case .bool(let value): error = api.requestSetBoolParameter(request, parameter.name, value)
            }
            if let error { return abandon(error) }
        }
        if let mark = ticket.sequence {
            if let error = api.requestSetCorrelationID(request, mark.id) { return abandon(error) }
            let flags = (mark.start ? TritonServerAPI.flagSequenceStart : 0) | (mark.end ? TritonServerAPI.flagSequenceEnd : 0)
            if let error = api.requestSetFlags(request, flags) { return abandon(error) }
        }
        let call = Unmanaged.passRetained(CAPICall(slot: self, serial: serial))
        if let error = api.requestSetResponseCallback(request, shared.server.allocator, nil, CAPICallbacks.responseComplete, call.toOpaque()) {
            call.release()
            return abandon(error)
        }
        if let error = api.inferAsync(shared.server.server, request, nil) {
            // Not taken: neither callback will run.
            call.release()
            return abandon(error)
        }
        return nil
    }

    private func take(_ error: OpaquePointer) -> String {
        let text = api.describe(error)
        api.errorDelete(error)
        return text
    }

    /// A response (or the final flag alone) of request `serial` arrived at `nowNs`.
    /// `outputs`: what `CAPIResponseOutputs` captured, when this slot reads them.
    func responseArrived(serial: UInt64, atNs nowNs: UInt64, hasResponse: Bool, isFinal: Bool, error: String?, outputs: ByteBuffer? = nil) {
        guard inFlight, serial == self.serial else { return }
        if hasResponse {
            record.responseCount += 1
            if record.firstResponseNs == 0 { record.firstResponseNs = nowNs }
            responses?.append(atNs: nowNs, body: outputs)
            // The export's sink takes a unary answer's outputs from the record, as it takes a body.
            if responses == nil, sinks.keepsResponseBodies { record.body = outputs }
        }
        if error == nil, let outputs, let expected = shared.requests[record.request].expected,
           let mismatch = CAPIResponseOutputs.mismatch(outputs, expected: expected) {
            end(.validationFailure(mismatch), atNs: nowNs)
            return
        }
        if let error {
            end(.serverError(error), atNs: nowNs)
        } else if isFinal {
            end(hasResponse || record.responseCount > 0 || shared.isDecoupled ? .success
                : .protocolError("the in-process server ended the request without a response"), atNs: nowNs)
        }
    }

    private func end(_ outcome: RequestOutcome, atNs nowNs: UInt64) {
        inFlight = false
        record.endNs = nowNs
        if record.firstResponseNs == 0, outcome == .success { record.firstResponseNs = nowNs }
        record.outcome = outcome
        finish(&record)
        record.body = nil
        becameIdle()
        pump()
    }
}

/// One request's context for Triton's response callback: its slot and serial. Retained from the
/// send until the final response.
final class CAPICall: Sendable {
    let slot: CAPISlot
    let serial: UInt64

    init(slot: CAPISlot, serial: UInt64) {
        self.slot = slot
        self.serial = serial
    }
}

/// The C callbacks Triton calls on its threads.
enum CAPICallbacks {
    /// Triton is done with a request: it is deleted (its inputs point into the table, which stays).
    static let requestReleased: TritonServerAPI.RequestReleaseFn = { request, _, userp in
        guard let userp else { return }
        let api = Unmanaged<TritonServerAPI>.fromOpaque(userp).takeUnretainedValue()
        if let error = api.requestDelete(request) { api.errorDelete(error) }
    }

    /// A response, or the final flag alone: read its error, free it, and tell the slot on its loop.
    static let responseComplete: TritonServerAPI.ResponseCompleteFn = { response, flags, userp in
        let nowNs = MonotonicClock.now()
        guard let userp else { return }
        let unmanaged = Unmanaged<CAPICall>.fromOpaque(userp)
        let call = unmanaged.takeUnretainedValue()
        if call.slot.readsOutputs {
            responseWithOutputs(response, flags: flags, call: unmanaged, atNs: nowNs)
            return
        }
        let api = call.slot.shared.server.api
        // The error is owned by the response: described, not deleted.
        let errorText = response.flatMap { api.responseError($0) }.map { api.describe($0) }
        if let response, let error = api.responseDelete(response) { api.errorDelete(error) }
        let isFinal = flags & TritonServerAPI.responseCompleteFinal != 0
        let hasResponse = response != nil
        if isFinal { unmanaged.release() }
        call.slot.eventLoop.execute {
            call.slot.responseArrived(serial: call.serial, atNs: nowNs, hasResponse: hasResponse, isFinal: isFinal, error: errorText)
        }
    }

    /// The same for a slot that reads outputs: they are copied out before the response is freed.
    private static func responseWithOutputs(_ response: OpaquePointer?, flags: UInt32, call unmanaged: Unmanaged<CAPICall>, atNs nowNs: UInt64) {
        let call = unmanaged.takeUnretainedValue()
        let api = call.slot.shared.server.api
        var errorText = response.flatMap { api.responseError($0) }.map { api.describe($0) }
        var outputs: ByteBuffer? = nil
        if let response, errorText == nil {
            do {
                outputs = try CAPIResponseOutputs.capture(response, api: api)
            } catch {
                errorText = error.description
            }
        }
        if let response, let error = api.responseDelete(response) { api.errorDelete(error) }
        let isFinal = flags & TritonServerAPI.responseCompleteFinal != 0
        let hasResponse = response != nil
        if isFinal { unmanaged.release() }
        call.slot.eventLoop.execute { [outputs, errorText] in
            call.slot.responseArrived(serial: call.serial, atNs: nowNs, hasResponse: hasResponse, isFinal: isFinal, error: errorText,
                                      outputs: outputs)
        }
    }
}
