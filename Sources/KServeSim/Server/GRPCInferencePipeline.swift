import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import NIOCore

/// Runs gRPC inference requests with the HTTP path's models, executor,
/// statistics and recorder. Failures come back as ``InferError``s: the unary
/// RPC turns them into status errors, a stream into `error_message` responses.
struct GRPCInferencePipeline: Sendable {
    let core: ServerCore
    let group: any EventLoopGroup

    /// Parameter a streaming client sets to get an empty response flagged final after the last one.
    static let enableFinalResponse = "triton_enable_empty_final_response"
    /// Response parameter that marks whether a response is the last for its request.
    static let finalResponse = "triton_final_response"

    /// A request resolved and checked, ready to run.
    struct Prepared: Sendable {
        var modelIndex: Int
        var plan: InferPlan
        var inputs: [Tensor]
        /// The regions its outputs go to (see ``InferPlan/bindSharedOutputs(registry:model:)``), held until answered.
        var outputRegions: [SharedMemorySpan?]
        var receivedAt: UInt64
        var plannedAt: UInt64
    }

    enum Failure: Error {
        /// The model is unknown: nothing is counted (as over HTTP).
        case unknownModel(String)
        /// The model is known; its `fail` statistics have been counted.
        case refused(InferError)
        /// A decoupled model asked for one response (Triton's UNSUPPORTED); counted as a failure too.
        case unsupported(InferError)

        var message: String {
            switch self {
            case .unknownModel(let message): return message
            case .refused(let error), .unsupported(let error): return error.message
            }
        }
    }

    /// The catalog index of a model; every model has exactly version "1" (an empty version means the latest).
    func resolve(model name: String, version: String) throws(Failure) -> Int {
        guard let index = core.catalog.index(of: name) else {
            throw .unknownModel("Request for unknown model: '\(name)' is not found")
        }
        guard version.isEmpty || version == "1" else {
            throw .unknownModel("Request for unknown model: '\(name)' version \(version) is not found")
        }
        return index
    }

    /// When recording, counts `message` as in flight for its sequence from now on (see
    /// ``SequencesInFlight``). Nil when not recording, for models without sequences, and
    /// for a request naming no sequence (``prepare(_:sequence:headers:refuseDecoupled:)`` refuses it).
    func sequenceArrival(of message: Inference_ModelInferRequest) -> SequenceArrival? {
        guard let recorder = core.recorder,
              let index = try? resolve(model: message.modelName, version: message.modelVersion),
              core.catalog[index].usesSequenceBatching,
              let control = try? SequenceControl.parse(GRPCConversions.parameters(message.parameters),
                                                       modelName: message.modelName)
        else { return nil }
        return recorder.sequenceArrived(control)
    }

    /// Resolves and checks `message`, and records it when recording is on; `sequence`
    /// is its ``sequenceArrival(of:)``. `refuseDecoupled` is set for the unary RPC,
    /// which cannot carry several responses. `fault` (the configured fault, when it applies
    /// to this request) only goes into the record.
    func prepare(_ message: Inference_ModelInferRequest, sequence: SequenceArrival?,
                 headers: @autoclosure () -> [String: String], refuseDecoupled: Bool,
                 fault: SimulatorFault.Mode? = nil) throws(Failure) -> Prepared {
        let received = MonotonicClock.now()
        let index = try resolve(model: message.modelName, version: message.modelVersion)
        let model = core.catalog[index]
        if refuseDecoupled, model.decoupled {
            core.statistics.recordFailure(model: index, nanoseconds: MonotonicClock.now() - received)
            throw .unsupported(InferError.decoupled(model: model.name, endpoint: "ModelInfer RPC"))
        }
        let read: (plan: InferPlan, inputs: [Tensor])
        let outputRegions: [SharedMemorySpan?]
        do throws(InferError) {
            read = try GRPCRequestReader.read(message, model: model, modelIndex: index, sharedMemory: core.sharedMemory)
            outputRegions = try read.plan.bindSharedOutputs(registry: core.sharedMemory, model: model)
        } catch {
            core.statistics.recordFailure(model: index, nanoseconds: MonotonicClock.now() - received)
            throw .refused(error)
        }
        let planned = MonotonicClock.now()
        core.recorder?.record(plan: read.plan, inputs: read.inputs, headers: headers(), sequence: sequence, fault: fault)
        return Prepared(modelIndex: index, plan: read.plan, inputs: read.inputs, outputRegions: outputRegions,
                        receivedAt: received, plannedAt: planned)
    }

    /// Runs a model that answers once, on one of the server's event loops (where the
    /// executor waits out the delay without blocking), and accounts it like HTTP does.
    func runSingle(_ request: Prepared) async throws(Failure) -> Inference_ModelInferResponse {
        let inputsReady = MonotonicClock.now()
        let executor = core.executor
        let loop = group.next()
        let (result, computeStart, computeNanoseconds) = await withCheckedContinuation {
            (continuation: CheckedContinuation<(Result<[Tensor], InferError>, UInt64, UInt64), Never>) in
            loop.execute {
                executor.run(model: request.modelIndex, inputs: request.inputs, batchSize: request.plan.batchSize,
                             sequence: request.plan.sequence, on: loop) { result, start, nanoseconds in
                    continuation.resume(returning: (result, start, nanoseconds))
                }
            }
        }
        let outputs: [Tensor]
        switch result {
        case .failure(let error):
            core.statistics.recordFailure(model: request.modelIndex, nanoseconds: MonotonicClock.now() - request.receivedAt)
            throw .refused(error)
        case .success(let produced):
            outputs = produced
        }
        let computeDone = MonotonicClock.now()
        do throws(InferError) {
            try request.plan.writeSharedOutputs(outputs, to: request.outputRegions)
        } catch {
            core.statistics.recordFailure(model: request.modelIndex, nanoseconds: MonotonicClock.now() - request.receivedAt)
            throw .refused(error)
        }
        let response = Self.response(plan: request.plan, outputs: outputs)
        let encoded = MonotonicClock.now()
        core.statistics.recordSuccess(model: request.modelIndex, batchSize: request.plan.batchSize, timing: ExecutionTiming(
            total: encoded - request.receivedAt, queue: computeStart - inputsReady,
            computeInput: inputsReady - request.plannedAt, computeInfer: computeNanoseconds,
            computeOutput: encoded - computeDone))
        return response
    }

    /// Runs a decoupled model and hands each response to `send` as soon as it is due
    /// (the configured delay comes before each one), saying whether it is the last.
    /// One request counts as one execution, its compute time spanning the responses,
    /// as Triton counts it.
    func runDecoupled(_ request: Prepared,
                      send: (Inference_ModelInferResponse, _ isLast: Bool) async throws -> Void) async throws -> Result<Int, InferError> {
        let inputsReady = MonotonicClock.now()
        let computeStart = MonotonicClock.now()
        let produced = core.executor.runDecoupled(model: request.modelIndex, inputs: request.inputs,
                                                  sequence: request.plan.sequence)
        let responses: [[Tensor]]
        switch produced {
        case .failure(let error):
            core.statistics.recordFailure(model: request.modelIndex, nanoseconds: MonotonicClock.now() - request.receivedAt)
            return .failure(error)
        case .success(let list):
            responses = list
        }
        var computeNanoseconds = MonotonicClock.now() - computeStart
        var outputNanoseconds: UInt64 = 0
        let delay = core.executor.delay.map { UInt64($0.nanoseconds) }
        for (position, outputs) in responses.enumerated() {
            if let delay {
                let sleepStart = MonotonicClock.now()
                try await Task.sleep(nanoseconds: delay)
                computeNanoseconds += MonotonicClock.now() - sleepStart
            }
            let encodeStart = MonotonicClock.now()
            do throws(InferError) {
                // Each response overwrites the regions, as each Triton response is allocated there again.
                try request.plan.writeSharedOutputs(outputs, to: request.outputRegions)
            } catch {
                core.statistics.recordFailure(model: request.modelIndex, nanoseconds: MonotonicClock.now() - request.receivedAt)
                return .failure(error)
            }
            let response = Self.response(plan: request.plan, outputs: outputs)
            outputNanoseconds += MonotonicClock.now() - encodeStart
            try await send(response, position == responses.count - 1)
        }
        core.statistics.recordSuccess(model: request.modelIndex, batchSize: request.plan.batchSize, timing: ExecutionTiming(
            total: MonotonicClock.now() - request.receivedAt, queue: computeStart - inputsReady,
            computeInput: inputsReady - request.plannedAt, computeInfer: computeNanoseconds,
            computeOutput: outputNanoseconds))
        return .success(responses.count)
    }

    /// The requested outputs (all, when none were named) as raw contents. An output written
    /// to shared memory gets an empty raw entry and no parameters, as with Triton 2.51 (so raw
    /// contents stay one per output).
    static func response(plan: InferPlan, outputs: [Tensor]) -> Inference_ModelInferResponse {
        var response = emptyResponse(plan: plan)
        response.outputs.reserveCapacity(plan.outputs.count)
        response.rawOutputContents.reserveCapacity(plan.outputs.count)
        for planned in plan.outputs {
            let tensor = outputs[planned.index]
            var output = Inference_ModelInferResponse.InferOutputTensor()
            output.name = tensor.name
            output.datatype = tensor.datatype.rawValue
            output.shape = tensor.shape
            if planned.sharedMemory != nil {
                response.outputs.append(output)
                response.rawOutputContents.append(Data())
                continue
            }
            response.outputs.append(output)
            response.rawOutputContents.append(GRPCConversions.data(tensor.data))
        }
        return response
    }

    /// The model name, version and id a request asked for, no outputs (what a failed streamed request's response carries).
    static func identity(of message: Inference_ModelInferRequest) -> Inference_ModelInferResponse {
        var response = Inference_ModelInferResponse()
        response.modelName = message.modelName
        response.modelVersion = message.modelVersion
        response.id = message.id
        return response
    }

    /// Model name, version and request id, no outputs (the final marker of a decoupled request).
    static func emptyResponse(plan: InferPlan) -> Inference_ModelInferResponse {
        var response = Inference_ModelInferResponse()
        response.modelName = plan.modelName
        response.modelVersion = "1"
        response.id = plan.requestID ?? ""
        return response
    }
}
