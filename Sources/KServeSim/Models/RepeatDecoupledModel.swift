import KServeProtocol

extension ModelCatalog {
    /// Most responses one request gets: clients fill IN with random data, and a
    /// huge N would keep a stream busy for minutes (Triton's test model clamps too).
    static let repeatDecoupledLimit: Int32 = 100

    /// Triton's `repeat_decoupled` test model: for IN = [N] it answers N times,
    /// the i-th response carrying OUT = [N] and IDX = [i]. N is clamped to
    /// 0...100 for the count only; OUT echoes N as sent.
    static func repeatDecoupled() -> ModelDefinition {
        ModelDefinition(
            name: "repeat_decoupled", maxBatchSize: 0,
            inputs: [TensorSpec(name: "IN", datatype: .int32, dims: [1])],
            outputs: [TensorSpec(name: "OUT", datatype: .int32, dims: [1]),
                      TensorSpec(name: "IDX", datatype: .int32, dims: [1])],
            behavior: .decoupled { request in
                let requested = request.inputs[0].element(0, as: Int32.self)
                let count = Int(min(max(requested, 0), repeatDecoupledLimit))
                let echoed = Tensor.make(name: "OUT", datatype: .int32, shape: [1], elementType: Int32.self) { _ in requested }
                return (0..<count).map { index in
                    [echoed, Tensor.make(name: "IDX", datatype: .int32, shape: [1], elementType: Int32.self) { _ in Int32(index) }]
                }
            })
    }
}
