/// Input data read from `--input-data` JSON files or a directory.
public struct InputDataSet: Sendable, Equatable {
    /// Streams of steps. A file whose "data" holds steps is one stream; a file whose "data" holds
    /// arrays of steps gives one stream per array. Several files append their streams in order.
    public var streams: [[DataStep]]
    /// Expected outputs, aligned with `streams` step for step; nil when no file gave validation data.
    /// Each step here holds OUTPUT tensors, only those the data named (it may leave outputs out).
    /// When some files give "validation_data" and others do not, the steps of the others are empty.
    public var validation: [[DataStep]]?

    public init(streams: [[DataStep]], validation: [[DataStep]]? = nil) {
        self.streams = streams
        self.validation = validation
    }
}
