import GRPCCore
import KServeGRPC
import KServeProtocol

/// What the configured fault does to gRPC inference calls. The generated service only sends
/// well-formed messages, so garbage and short-body (HTTP-only faults) refuse the call
/// instead: a client test against them fails loudly rather than seeing normal answers.
extension GRPCService {
    /// A unary ModelInfer call the fault applies to.
    func faultedInfer(_ request: ServerRequest<Inference_ModelInferRequest>,
                      fault: SimulatorFault) async throws -> Inference_ModelInferResponse {
        switch fault.mode {
        case .silent, .stall:
            // Left in flight for its sequence: it is never answered.
            pipeline.receiveWithoutRunning(request.message, sequence: pipeline.sequenceArrival(of: request.message),
                                           headers: GRPCConversions.recordedHeaders(request.metadata), fault: fault.mode)
            try await Self.holdUntilServerStops()
        case .garbage, .shortBody, .streamError, .streamCut, .tooManyRequests:
            let sequence = pipeline.sequenceArrival(of: request.message)
            defer { sequence?.answered() }
            pipeline.receiveWithoutRunning(request.message, sequence: sequence,
                                           headers: GRPCConversions.recordedHeaders(request.metadata), fault: fault.mode)
            throw Self.notOverGRPC(fault.mode)
        case .wrongShape:
            // The model runs and is counted as usual; whatever it answered, the client gets no outputs.
            return Self.withoutOutputs((try? await infer(request, fault: fault.mode))
                                       ?? GRPCInferencePipeline.identity(of: request.message))
        case .slowBytes:
            let answer: Result<Inference_ModelInferResponse, any Error>
            do {
                answer = .success(try await infer(request, fault: fault.mode))
            } catch {
                answer = .failure(error)
            }
            try await Task.sleep(for: fault.grpcHoldBack)
            return try answer.get()
        }
    }

    /// One request of a ModelStreamInfer call the fault applies to; the stream goes on afterwards,
    /// except after a stalled request, which holds the stream (requests are answered in turn).
    static func answerFaulted(_ message: Inference_ModelInferRequest, fault: SimulatorFault, sequence: SequenceArrival?,
                              headers: [String: String], pipeline: GRPCInferencePipeline,
                              write: (Inference_ModelStreamInferResponse) async throws -> Void) async throws {
        switch fault.mode {
        case .silent, .stall:
            pipeline.receiveWithoutRunning(message, sequence: sequence, headers: headers, fault: fault.mode)
            try await holdUntilServerStops()
        case .garbage, .shortBody, .streamError, .streamCut, .tooManyRequests:
            pipeline.receiveWithoutRunning(message, sequence: sequence, headers: headers, fault: fault.mode)
            sequence?.answered()
            var response = Inference_ModelStreamInferResponse()
            response.errorMessage = notOverGRPC(fault.mode).message
            response.inferResponse = GRPCInferencePipeline.identity(of: message)
            try await write(response)
        case .wrongShape:
            try await answer(message, sequence: sequence, headers: headers, pipeline: pipeline, fault: fault.mode) { response in
                var emptied = Inference_ModelStreamInferResponse()
                emptied.inferResponse = withoutOutputs(response.inferResponse)
                try await write(emptied)
            }
        case .slowBytes:
            try await answer(message, sequence: sequence, headers: headers, pipeline: pipeline, fault: fault.mode) { response in
                try await Task.sleep(for: fault.grpcHoldBack)
                try await write(response)
            }
        }
    }

    /// Keeps a stalled call open, sending nothing, until the server stops (which cancels its
    /// task). The call's own cancellation (a deadline passed, the client gave up) is ignored on
    /// purpose: ending the handler then would send the client a status.
    static func holdUntilServerStops() async throws -> Never {
        while true {
            try await Task.sleep(for: .seconds(3600))
        }
    }

    static func notOverGRPC(_ mode: SimulatorFault.Mode) -> RPCError {
        RPCError(code: .unimplemented,
                 message: "kserve-sim's --fault \(mode.rawValue) applies to HTTP only; this gRPC request was not run")
    }

    /// A response's model name, version, id and parameters, without any output.
    static func withoutOutputs(_ response: Inference_ModelInferResponse) -> Inference_ModelInferResponse {
        var emptied = response
        emptied.outputs = []
        emptied.rawOutputContents = []
        return emptied
    }
}

extension GRPCInferencePipeline {
    /// Records a request the fault keeps from running (as any other request) and counts it as a
    /// failure; a request that fails on its own was counted by ``prepare(_:sequence:headers:refuseDecoupled:fault:)``.
    func receiveWithoutRunning(_ message: Inference_ModelInferRequest, sequence: SequenceArrival?,
                               headers: @autoclosure () -> [String: String], fault: SimulatorFault.Mode) {
        guard let prepared = try? prepare(message, sequence: sequence, headers: headers(), refuseDecoupled: false,
                                          fault: fault) else { return }
        core.statistics.recordFailure(model: prepared.modelIndex, nanoseconds: MonotonicClock.now() - prepared.receivedAt)
    }
}
