import KServeProtocol

/// Many data steps held flat: every tensor's bytes back to back in one arena and, per tensor, a
/// small entry saying which model tensor it is, its shape and where its bytes lie. A file of a
/// million small steps then costs a few bytes of bookkeeping per step instead of several heap
/// objects each; a `DataStep` is made only when one is asked for.
public struct DataStepTable: Sendable {
    /// One tensor of one step.
    struct Entry: Sendable {
        /// Index into `names` and `datatypes`.
        var slot: Int32
        /// Index into `shapes`.
        var shape: Int32
        /// Where the tensor's bytes lie in `arena`.
        var offset: Int
        var count: Int
    }

    /// The tensors steps may hold, by slot.
    private(set) var names: [String]
    private(set) var datatypes: [DataType]
    /// Every tensor's bytes. The loader writes straight into it, then adds the entry.
    var arena: [UInt8] = []
    private(set) var entries: [Entry] = []
    /// Index in `entries` of each step's first tensor, and one more: the end of the last step.
    private var stepStarts: [Int] = [0]
    /// Every distinct shape once; steps of one shape share its index.
    private(set) var shapes: [[Int64]] = []
    private var shapeIndices: [[Int64]: Int32] = [:]
    /// The shape interned last, checked before hashing: steps mostly repeat it.
    private var lastShape: Int32 = -1

    /// An empty table whose steps may hold the tensors named here, in this order.
    init(names: [String], datatypes: [DataType]) {
        precondition(names.count == datatypes.count)
        self.names = names
        self.datatypes = datatypes
    }

    /// A table of these steps; its slots are the tensors they hold, in the order first met.
    public init(_ steps: [DataStep]) {
        self.init(names: [], datatypes: [])
        for step in steps { append(step) }
    }

    /// Adds a step that holds a copy of `step`'s tensors.
    public mutating func append(_ step: DataStep) {
        for tensor in step.tensors {
            let slot = names.indices.first { names[$0] == tensor.name && datatypes[$0] == tensor.datatype } ?? {
                names.append(tensor.name)
                datatypes.append(tensor.datatype)
                return names.count - 1
            }()
            let offset = arena.count
            arena.append(contentsOf: tensor.bytes)
            appendTensor(slot: slot, shape: tensor.shape, offset: offset, count: tensor.bytes.count)
        }
        endStep()
    }

    /// Adds a tensor to the step being built, whose bytes are already in `arena`.
    mutating func appendTensor(slot: Int, shape: [Int64], offset: Int, count: Int) {
        entries.append(Entry(slot: Int32(slot), shape: intern(shape), offset: offset, count: count))
    }

    /// Closes the step being built (a step may hold no tensor).
    mutating func endStep() {
        stepStarts.append(entries.count)
    }

    /// Adds `count` steps that hold nothing.
    mutating func appendEmptySteps(_ count: Int) {
        stepStarts.append(contentsOf: repeatElement(entries.count, count: count))
    }

    private mutating func intern(_ shape: [Int64]) -> Int32 {
        if lastShape >= 0, shapes[Int(lastShape)] == shape { return lastShape }
        if let known = shapeIndices[shape] {
            lastShape = known
            return known
        }
        let index = Int32(shapes.count)
        shapes.append(shape)
        shapeIndices[shape] = index
        lastShape = index
        return index
    }

    /// The entries of step `step`.
    func entries(of step: Int) -> ArraySlice<Entry> {
        entries[stepStarts[step]..<stepStarts[step + 1]]
    }

    /// The bytes of one tensor, without copying them.
    @inline(__always)
    func withBytes<T>(of entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[entry.offset..<(entry.offset + entry.count)])) }
    }

    func tensor(_ entry: Entry) -> DataStep.Tensor {
        DataStep.Tensor(name: names[Int(entry.slot)], datatype: datatypes[Int(entry.slot)], shape: shapes[Int(entry.shape)],
                        bytes: Array(arena[entry.offset..<(entry.offset + entry.count)]))
    }
}

/// The steps in order, each made into a `DataStep` (a copy of its tensors) when read.
extension DataStepTable: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { stepStarts.count - 1 }

    public subscript(position: Int) -> DataStep {
        DataStep(tensors: entries(of: position).map(tensor))
    }
}
