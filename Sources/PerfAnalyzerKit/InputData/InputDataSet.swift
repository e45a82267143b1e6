/// Input data read from `--input-data` JSON files or a directory.
public struct InputDataSet: Sendable, Equatable {
    /// The steps of every stream, streams in order. A file whose "data" holds steps is one stream;
    /// a file whose "data" holds arrays of steps gives one stream per array. Several files append
    /// their streams in order.
    public var steps: DataStepTable
    /// How many of `steps` each stream holds, in order.
    public var streamLengths: [Int]
    /// Expected outputs, aligned with `steps` step for step; nil when no file gave validation data.
    /// Each step here holds OUTPUT tensors, only those the data named (it may leave outputs out).
    /// When some files give "validation_data" and others do not, the steps of the others are empty.
    public var validationSteps: DataStepTable?

    init(steps: DataStepTable, streamLengths: [Int], validationSteps: DataStepTable?) {
        precondition(streamLengths.reduce(0, +) == steps.count && (validationSteps.map { $0.count == steps.count } ?? true))
        self.steps = steps
        self.streamLengths = streamLengths
        self.validationSteps = validationSteps
    }

    /// `validation`, when given, must have the streams of `streams`, step for step.
    public init(streams: [[DataStep]], validation: [[DataStep]]? = nil) {
        self.init(steps: DataStepTable(streams.flatMap { $0 }), streamLengths: streams.map(\.count),
                  validationSteps: validation.map { DataStepTable($0.flatMap { $0 }) })
    }

    /// The streams, each step made into a `DataStep` on every call: for looking at a few steps,
    /// not for walking a large file (the run reads `steps`).
    public var streams: [[DataStep]] { Self.split(steps, streamLengths) }

    /// `validationSteps` split like `streams`, made on every call.
    public var validation: [[DataStep]]? { validationSteps.map { Self.split($0, streamLengths) } }

    private static func split(_ table: DataStepTable, _ lengths: [Int]) -> [[DataStep]] {
        var start = 0
        return lengths.map { length in
            defer { start += length }
            return Array(table[start..<(start + length)])
        }
    }

    public static func == (lhs: InputDataSet, rhs: InputDataSet) -> Bool {
        lhs.streams == rhs.streams && lhs.validation == rhs.validation
    }
}
