import KServeProtocol

/// Turns the run's data steps into the requests the load sends: each request carries
/// `batchSize` consecutive steps (wrapping), and requests walk the steps round-robin.
public struct RequestPlan: Sendable {
    public struct PlanError: Error, CustomStringConvertible {
        public var description: String
    }

    public var steps: [DataStep]
    /// Expected outputs aligned with `steps`; nil without validation data.
    public var expected: [DataStep]?

    public init(steps: [DataStep], expected: [DataStep]?) {
        self.steps = steps
        self.expected = expected
    }

    /// Flattens input-data streams into one round-robin list (streams in order).
    public init(dataSet: InputDataSet) {
        steps = dataSet.streams.flatMap { $0 }
        expected = dataSet.validation.map { $0.flatMap { $0 } }
    }

    /// Requests starting at steps 0, b, 2b, … until the cycle repeats, so sending them in
    /// order plays the steps round-robin. `bindSharedMemory`, given the request's index and
    /// steps, places its tensors in shared memory and says where.
    public func requests(batchSize: Int, builder: some InferRequestEncoding,
                         bindSharedMemory: ((_ index: Int, _ steps: [DataStep]) throws -> SharedMemoryBinding)? = nil) throws -> [PreparedRequest] {
        guard !steps.isEmpty else { throw PlanError(description: "--input-data: the input data holds no steps") }
        let count = steps.count / greatestCommonDivisor(steps.count, batchSize)
        var requests: [PreparedRequest] = []
        requests.reserveCapacity(count)
        for index in 0..<count {
            let start = (index * batchSize) % steps.count
            let indices = (0..<batchSize).map { (start + $0) % steps.count }
            let batch = indices.map { steps[$0] }
            try checkStackable(batch, indices: indices)
            let binding = try bindSharedMemory?(index, batch)
            var request = try builder.build(steps: batch, sharedMemory: binding)
            if let expected {
                request.expected = ExpectedOutputs(steps: indices, tensors: stack(indices.map { expected[$0] }))
            }
            requests.append(request)
        }
        return requests
    }

    /// Steps batched together must agree on each input's shape.
    private func checkStackable(_ batch: [DataStep], indices: [Int]) throws {
        guard let first = batch.first else { return }
        for (offset, step) in batch.enumerated().dropFirst() {
            for (tensor, reference) in zip(step.tensors, first.tensors) where tensor.shape != reference.shape || tensor.name != reference.name {
                throw PlanError(description: "-b \(batch.count): data steps \(indices[0]) and \(indices[offset]) give '\(tensor.name)' shapes \(reference.shape) and \(tensor.shape); steps batched together need the same shape")
            }
        }
    }

    /// Expected outputs of a batch: each output's entries stacked in batch order.
    private func stack(_ batch: [DataStep]) -> [DataStep.Tensor] {
        guard let first = batch.first else { return [] }
        return first.tensors.map { tensor in
            var stacked = tensor
            stacked.bytes = batch.flatMap { step in step.tensors.first { $0.name == tensor.name }?.bytes ?? [] }
            return stacked
        }
    }

    private func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
        b == 0 ? a : greatestCommonDivisor(b, a % b)
    }
}
