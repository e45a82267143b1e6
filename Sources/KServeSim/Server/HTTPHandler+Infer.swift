import KServeProtocol
import NIOCore
import NIOHTTP1

extension HTTPHandler {
    /// POST .../infer: plan (cached), slice inputs, record, run, encode, answer,
    /// and account each phase in the model's statistics. A request the configured fault applies to
    /// is recorded and counted the same way, then answered the fault's way; a stalled one never runs.
    func infer(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer, model index: Int) {
        let received = receivedAt
        let fault = core.faults?.faultForNextRequest()?.mode
        let statistics = core.statistics
        let plan: InferPlan
        var inputs: [Tensor]
        /// Held until the answer is written, so the output regions stay mapped.
        var outputRegions: [SharedMemorySpan?] = []
        let planned: UInt64
        do throws(InferError) {
            var jsonLength = body.readableBytes
            let hasBinaryBody: Bool
            if let text = head.headers.first(name: BinaryTensorHeader.headerContentLength) {
                guard let length = Int(text), length >= 0, length <= body.readableBytes else {
                    throw InferError("\(BinaryTensorHeader.headerContentLength) '\(text)' does not fit a body of \(body.readableBytes) bytes")
                }
                jsonLength = length
                hasBinaryBody = true
            } else {
                hasBinaryBody = false
            }
            if let encoding = head.headers.first(name: "content-encoding"), encoding != "identity" {
                throw InferError("unsupported content-encoding '\(encoding)'")
            }
            let json = body.getSlice(at: body.readerIndex, length: jsonLength)!
            let model = core.catalog[index]
            plan = try plans.plan(model: index, header: json, hasBinaryBody: hasBinaryBody) { () throws(InferError) in
                try PlanBuilder.build(model: model, modelIndex: index, header: json, hasBinaryBody: hasBinaryBody)
            }
            planned = MonotonicClock.now()
            inputs = try plan.materializeInputs(body: body, jsonLength: jsonLength)
            if plan.usesSharedMemory {
                try plan.readSharedInputs(into: &inputs, registry: core.sharedMemory)
                outputRegions = try plan.bindSharedOutputs(registry: core.sharedMemory, model: core.catalog[index])
            }
        } catch {
            statistics.recordFailure(model: index, nanoseconds: MonotonicClock.now() - received)
            return respondError(context: context, head: head, status: .badRequest, message: error.message, fault: fault)
        }
        let arrival = core.recorder?.sequenceArrived(plan.sequence)
        core.recorder?.record(plan: plan, inputs: inputs, headers: head.headers, sequence: arrival, fault: fault)
        if fault == .stall || fault == .tooManyRequests {
            // Never run: a stalled request is never answered either (the connection stays silent), a refused
            // one gets 429. Either is a failure, as seen from the server.
            statistics.recordFailure(model: index, nanoseconds: MonotonicClock.now() - received)
            if fault == .tooManyRequests {
                respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: nil, fault: fault)
            }
            return
        }
        let inputsReady = MonotonicClock.now()

        core.executor.run(model: index, inputs: inputs, batchSize: plan.batchSize, sequence: plan.sequence,
                          on: context.eventLoop) { [outputRegions] result, computeStart, computeNanoseconds in
            // Before the answer is written, so the client's next request never meets this one.
            arrival?.answered()
            let outputs: [Tensor]
            switch result {
            case .failure(let error):
                statistics.recordFailure(model: index, nanoseconds: MonotonicClock.now() - received)
                return self.respondError(context: context, head: head, status: .badRequest, message: error.message,
                                         fault: fault)
            case .success(let produced):
                outputs = produced
            }
            let computeDone = MonotonicClock.now()
            do throws(InferError) {
                try plan.writeSharedOutputs(outputs, to: outputRegions)
            } catch {
                statistics.recordFailure(model: index, nanoseconds: MonotonicClock.now() - received)
                return self.respondError(context: context, head: head, status: .badRequest, message: error.message,
                                         fault: fault)
            }
            let (responseBody, headerLength) = ResponseEncoder.encode(plan: plan, outputs: outputs)
            let encoded = MonotonicClock.now()
            statistics.recordSuccess(model: index, batchSize: plan.batchSize, timing: ExecutionTiming(
                total: encoded - received, queue: computeStart - inputsReady, computeInput: inputsReady - planned,
                computeInfer: computeNanoseconds, computeOutput: encoded - computeDone))
            var headers: HTTPHeaders
            if let headerLength {
                headers = Self.binaryHeaders
                headers.add(name: BinaryTensorHeader.headerContentLength, value: String(headerLength))
            } else {
                headers = Self.jsonHeaders
            }
            self.respond(context: context, head: head, status: .ok, headers: headers, body: responseBody, fault: fault)
        }
    }
}
