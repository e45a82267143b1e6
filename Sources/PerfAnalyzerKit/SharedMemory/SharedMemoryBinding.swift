/// Where one request's tensors live when they travel through shared memory: for each
/// input and output, by tensor name, the registered region and how many of its bytes.
public struct SharedMemoryBinding: Sendable, Equatable {
    public struct Slice: Sendable, Equatable {
        public var region: String
        public var byteSize: Int

        public init(region: String, byteSize: Int) {
            self.region = region
            self.byteSize = byteSize
        }
    }

    public var inputs: [String: Slice]
    public var outputs: [String: Slice]

    public init(inputs: [String: Slice], outputs: [String: Slice]) {
        self.inputs = inputs
        self.outputs = outputs
    }
}
