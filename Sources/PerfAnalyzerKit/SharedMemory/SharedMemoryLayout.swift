import KServeProtocol

/// Lays a run's requests out in shared memory the way perf_analyzer does: each prepared
/// request gets one region per input holding its stacked bytes, written once before the
/// load; each output gets one region sized for a whole batch (the size the model fixes, or
/// `--output-shared-memory-size` per batch entry when it does not). Without validation
/// every request shares the output regions. With validation data each request has its own,
/// so a response is read back from where the server wrote it (requests sent concurrently
/// with the same index carry the same inputs, so their outputs agree).
final class SharedMemoryLayout {
    /// Whether a server's error says an output region is too small for the output (Triton's and
    /// kserve-sim's words: "shared memory size specified with the request for output …").
    static func isOutputSizeRefusal(_ serverError: String) -> Bool {
        serverError.contains("shared memory size")
    }

    let regions: SharedMemoryRegions
    let model: ModelDescription
    let batchSize: Int
    let outputSizePerEntry: Int
    let separateOutputs: Bool
    private var sharedOutputs: [String: SharedMemoryRegions.Region]? = nil
    /// Output regions by request index, kept for validation.
    private(set) var outputRegions: [Int: SharedOutputRegions] = [:]

    init(regions: SharedMemoryRegions, model: ModelDescription, batchSize: Int, outputSizePerEntry: Int, separateOutputs: Bool) {
        self.regions = regions
        self.model = model
        self.batchSize = model.supportsBatching ? batchSize : 1
        self.outputSizePerEntry = outputSizePerEntry
        self.separateOutputs = separateOutputs
    }

    /// Places request `index` (made of `steps`) in shared memory and says where.
    func bind(index: Int, steps: [DataStep]) throws -> SharedMemoryBinding {
        var inputs: [String: SharedMemoryBinding.Slice] = [:]
        for input in StackedInput.stack(steps, batched: model.supportsBatching) {
            let region = try regions.create(suffix: "in_\(index)_\(input.name)", byteSize: input.bytes.count, contents: input.bytes)
            inputs[input.name] = .init(region: region.name, byteSize: input.bytes.count)
        }
        let outputs = try outputRegions(for: index)
        outputRegions[index] = SharedOutputRegions(storages: outputs.mapValues(\.storage))
        return SharedMemoryBinding(inputs: inputs, outputs: outputs.mapValues { .init(region: $0.name, byteSize: $0.storage.byteSize) })
    }

    /// Bytes reserved for one output: its fixed size when every dimension is known and its
    /// elements have a size, else the per-entry size; times the batch.
    func outputByteSize(_ output: ModelDescription.Tensor) -> Int {
        if let elementSize = output.datatype.elementSize, output.shape.allSatisfy({ $0 >= 0 }) {
            return output.shape.reduce(1) { $0 * Int($1) } * elementSize * batchSize
        }
        return outputSizePerEntry * batchSize
    }

    private func outputRegions(for index: Int) throws -> [String: SharedMemoryRegions.Region] {
        if !separateOutputs, let sharedOutputs { return sharedOutputs }
        var made: [String: SharedMemoryRegions.Region] = [:]
        for output in model.outputs {
            let suffix = separateOutputs ? "out_\(index)_\(output.name)" : "out_\(output.name)"
            made[output.name] = try regions.create(suffix: suffix, byteSize: outputByteSize(output))
        }
        if !separateOutputs { sharedOutputs = made }
        return made
    }
}
