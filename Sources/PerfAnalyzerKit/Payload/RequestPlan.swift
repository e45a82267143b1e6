import KServeProtocol
import NIOCore

/// Turns the run's data steps into the requests the load sends: each request carries
/// `batchSize` consecutive steps (wrapping), and requests walk the steps round-robin.
public struct RequestPlan: Sendable {
    public struct PlanError: Error, CustomStringConvertible {
        public var description: String
    }

    public var steps: DataStepTable
    /// Expected outputs aligned with `steps`; nil without validation data.
    public var expected: DataStepTable?

    public init(steps: DataStepTable, expected: DataStepTable?) {
        self.steps = steps
        self.expected = expected
    }

    public init(steps: [DataStep], expected: [DataStep]?) {
        self.init(steps: DataStepTable(steps), expected: expected.map { DataStepTable($0) })
    }

    /// Input-data streams as one round-robin list (streams in order).
    public init(dataSet: InputDataSet) {
        self.init(steps: dataSet.steps, expected: dataSet.validationSteps)
    }

    /// Requests starting at steps 0, b, 2b, … until the cycle repeats, so sending them in
    /// order plays the steps round-robin. `bindSharedMemory`, given the request's index and
    /// steps, places its tensors in shared memory and says where.
    ///
    /// Without shared memory, an encoding that makes frames encodes each layout of inputs once
    /// and the requests are written from the table's bytes into a few large buffers.
    public func requests(batchSize: Int, builder: some InferRequestEncoding,
                         bindSharedMemory: ((_ index: Int, _ steps: [DataStep]) throws -> SharedMemoryBinding)? = nil) throws -> [PreparedRequest] {
        guard !steps.isEmpty else { throw PlanError(description: "--input-data: the input data holds no steps") }
        let count = steps.count / greatestCommonDivisor(steps.count, batchSize)
        var requests: [PreparedRequest] = []
        requests.reserveCapacity(count)
        var frames = bindSharedMemory == nil ? (builder as? any FramedRequestEncoding).map { RequestFrameCache(encoding: $0) } : nil
        var writer = PreparedBytesWriter()
        var batch: [Int] = []
        for index in 0..<count {
            let start = (index * batchSize) % steps.count
            batch.removeAll(keepingCapacity: true)
            for offset in 0..<batchSize { batch.append((start + offset) % steps.count) }
            try checkStackable(batch)
            var request: PreparedRequest
            let frame = try frames?.frame(for: batch, of: steps)
            if let frame {
                request = frame.prototype
            } else {
                frames = nil  // the encoding makes no frames
                let batchSteps = batch.map { steps[$0] }
                let binding = try bindSharedMemory?(index, batchSteps)
                request = try builder.build(steps: batchSteps, sharedMemory: binding)
            }
            if let expected {
                request.expected = ExpectedOutputs(steps: batch, tensors: stack(batch.map { expected[$0] }))
            }
            requests.append(request)
            if let frame {
                writer.write(request: index, byteCount: frame.byteCount, deliver: { requests[$0].bytes = $1 }) { buffer in
                    frame.write(steps: batch, of: steps, into: &buffer)
                }
            }
        }
        writer.finish { requests[$0].bytes = $1 }
        return requests
    }

    /// Steps batched together must hold the same inputs with the same shapes.
    private func checkStackable(_ batch: [Int]) throws {
        guard batch.count > 1 else { return }
        let first = steps.entries(of: batch[0])
        for (offset, step) in batch.enumerated().dropFirst() {
            let entries = steps.entries(of: step)
            for (tensor, reference) in zip(entries, first) where tensor.shape != reference.shape || tensor.slot != reference.slot {
                let name = steps.names[Int(tensor.slot)]
                let shape = steps.shapes[Int(tensor.shape)], referenceShape = steps.shapes[Int(reference.shape)]
                throw PlanError(description: "-b \(batch.count): data steps \(batch[0]) and \(step) give '\(name)' shapes \(referenceShape) and \(shape); steps batched together need the same shape")
            }
            if entries.count != first.count {
                let names = { (entries: ArraySlice<DataStepTable.Entry>) in entries.map { steps.names[Int($0.slot)] }.joined(separator: ", ") }
                throw PlanError(description: "-b \(batch.count): data steps \(batch[0]) and \(batch[offset]) give the inputs \(names(first)) and \(names(entries)); steps batched together need the same inputs")
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
