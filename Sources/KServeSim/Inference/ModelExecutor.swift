import KServeProtocol
import NIOCore

/// Runs models on the connection's event loop. A leaf model's compute closure runs
/// inline; the configured delay is then waited out with a scheduled task, never by
/// blocking the loop. Ensembles run their steps in order and record statistics for
/// every composing model, as Triton does.
final class ModelExecutor: Sendable {
    /// Called on the event loop with the outputs (model output order), when compute
    /// started, and how long compute took including the delay.
    typealias Completion = (_ result: Result<[Tensor], InferError>, _ computeStart: UInt64, _ computeNanoseconds: UInt64) -> Void

    let catalog: ModelCatalog
    let statistics: StatisticsBook
    /// The configured extra compute time; nil when none.
    let delay: TimeAmount?

    init(catalog: ModelCatalog, statistics: StatisticsBook, delayMicroseconds: Int) {
        self.catalog = catalog
        self.statistics = statistics
        self.delay = delayMicroseconds > 0 ? .microseconds(Int64(delayMicroseconds)) : nil
    }

    func run(model index: Int, inputs: [Tensor], batchSize: Int, sequence: SequenceControl?,
             on loop: EventLoop, completion: @escaping Completion) {
        let model = catalog[index]
        let start = MonotonicClock.now()
        switch model.behavior {
        case .compute(let compute):
            let outputs: [Tensor]
            do {
                outputs = try compute(ComputeRequest(modelName: model.name, inputs: inputs, sequence: sequence))
            } catch let error as InferError {
                completion(.failure(error), start, MonotonicClock.now() - start)
                return
            } catch {
                completion(.failure(InferError("model '\(model.name)' failed: \(error)")), start, MonotonicClock.now() - start)
                return
            }
            guard let delay else {
                completion(.success(outputs), start, MonotonicClock.now() - start)
                return
            }
            loop.assumeIsolated().scheduleTask(in: delay) {
                completion(.success(outputs), start, MonotonicClock.now() - start)
            }
        case .decoupled:
            // Decoupled models run through `runDecoupled`; reaching here means a caller
            // that expects one response (or an ensemble step) named one.
            completion(.failure(InferError("model '\(model.name)' is decoupled and cannot give a single response")),
                       start, 0)
        case .ensemble(let steps):
            var tensors: [String: Tensor] = [:]
            for (spec, tensor) in zip(model.inputs, inputs) { tensors[spec.name] = tensor }
            runSteps(of: index, steps: steps, from: 0, tensors: tensors, batchSize: batchSize,
                     sequence: sequence, on: loop) { result in
                completion(result, start, MonotonicClock.now() - start)
            }
        }
    }

    /// Runs ensemble steps `from...` in order; each step reads and writes the
    /// ensemble's named tensors through its input and output maps.
    private func runSteps(of ensemble: Int, steps: [EnsembleStepDefinition], from position: Int,
                          tensors: [String: Tensor], batchSize: Int, sequence: SequenceControl?,
                          on loop: EventLoop, completion: @escaping (Result<[Tensor], InferError>) -> Void) {
        let ensembleModel = catalog[ensemble]
        guard position < steps.count else {
            var outputs: [Tensor] = []
            for spec in ensembleModel.outputs {
                guard let tensor = tensors[spec.name] else {
                    completion(.failure(InferError("ensemble '\(ensembleModel.name)' produced no tensor for output '\(spec.name)'")))
                    return
                }
                outputs.append(tensor.renamed(spec.name))
            }
            completion(.success(outputs))
            return
        }
        let step = steps[position]
        let stepIndex = catalog.stepIndices[ensemble][position]
        let stepModel = catalog[stepIndex]
        let stepStart = MonotonicClock.now()
        var inputs: [Tensor] = []
        for spec in stepModel.inputs {
            guard let source = step.inputMap[spec.name], let tensor = tensors[source] else {
                completion(.failure(InferError("ensemble '\(ensembleModel.name)' has no tensor for input '\(spec.name)' of step '\(stepModel.name)'")))
                return
            }
            inputs.append(tensor.renamed(spec.name))
        }
        let inputsReady = MonotonicClock.now()
        run(model: stepIndex, inputs: inputs, batchSize: batchSize, sequence: sequence, on: loop) { result, computeStart, computeNanoseconds in
            let outputs: [Tensor]
            switch result {
            case .failure(let error):
                self.statistics.recordFailure(model: stepIndex, nanoseconds: MonotonicClock.now() - stepStart)
                completion(.failure(error))
                return
            case .success(let produced):
                outputs = produced
            }
            let computeDone = MonotonicClock.now()
            var next = tensors
            for (spec, tensor) in zip(stepModel.outputs, outputs) {
                if let target = step.outputMap[spec.name] { next[target] = tensor.renamed(target) }
            }
            let stepEnd = MonotonicClock.now()
            self.statistics.recordSuccess(model: stepIndex, batchSize: batchSize, timing: ExecutionTiming(
                total: stepEnd - stepStart, queue: computeStart - inputsReady, computeInput: inputsReady - stepStart,
                computeInfer: computeNanoseconds, computeOutput: stepEnd - computeDone))
            self.runSteps(of: ensemble, steps: steps, from: position + 1, tensors: next, batchSize: batchSize,
                          sequence: sequence, on: loop, completion: completion)
        }
    }
}
