import KServeProtocol

extension ModelExecutor {
    /// Runs a decoupled model's compute closure and returns all its responses at
    /// once; the caller paces them out, adding the delay before each.
    func runDecoupled(model index: Int, inputs: [Tensor], sequence: SequenceControl?) -> Result<[[Tensor]], InferError> {
        let model = catalog[index]
        guard case .decoupled(let compute) = model.behavior else {
            return .failure(InferError("model '\(model.name)' is not decoupled"))
        }
        do {
            return .success(try compute(ComputeRequest(modelName: model.name, inputs: inputs, sequence: sequence)))
        } catch let error as InferError {
            return .failure(error)
        } catch {
            return .failure(InferError("model '\(model.name)' failed: \(error)"))
        }
    }
}
