import KServeProtocol

/// One model tensor a step may name, with the shape it gets when the step gives none.
/// A class: the parser looks slots up for every tensor of every step, and a reference is
/// cheaper to pass around than the arrays and strings inside.
final class TensorSlot: Sendable {
    let tensor: ModelDescription.Tensor
    /// `--shape` for inputs, else the model's dims when they are fixed; nil when neither applies.
    let defaultShape: [Int64]?
    let isOutput: Bool

    init(tensor: ModelDescription.Tensor, defaultShape: [Int64]?, isOutput: Bool) {
        self.tensor = tensor
        self.defaultShape = defaultShape
        self.isOutput = isOutput
    }

    var name: String { tensor.name }
    var datatype: DataType { tensor.datatype }
}

/// The inputs (or outputs) of the model, looked up by the raw bytes of a JSON key.
struct TensorSlotTable {
    let slots: [TensorSlot]
    private let nameBytes: [[UInt8]]
    private let lookup: [[UInt8]: Int]
    let isOutput: Bool
    let modelName: String

    /// Input slots take `--shape` before the model's dims. A `--shape` with a negative dimension
    /// is refused here, before any data is read.
    static func inputs(of model: ModelDescription, shapes: [String: [Int64]]) throws(InputDataError) -> TensorSlotTable {
        var slots: [TensorSlot] = []
        for input in model.inputs {
            var shape: [Int64]? = TensorShapes.isFixed(input.shape) ? input.shape : nil
            if let given = shapes[input.name] {
                guard TensorShapes.isFixed(given) else {
                    throw InputDataError("--shape \(input.name):\(given.map(String.init).joined(separator: ",")): dimensions must be non-negative")
                }
                shape = given
            }
            slots.append(TensorSlot(tensor: input, defaultShape: shape, isOutput: false))
        }
        return TensorSlotTable(slots: slots, isOutput: false, modelName: model.name)
    }

    /// Output slots use the model's dims when fixed; `--shape` names inputs only.
    static func outputs(of model: ModelDescription) -> TensorSlotTable {
        let slots = model.outputs.map {
            TensorSlot(tensor: $0, defaultShape: TensorShapes.isFixed($0.shape) ? $0.shape : nil, isOutput: true)
        }
        return TensorSlotTable(slots: slots, isOutput: true, modelName: model.name)
    }

    init(slots: [TensorSlot], isOutput: Bool, modelName: String) {
        self.slots = slots
        self.isOutput = isOutput
        self.modelName = modelName
        var lookup: [[UInt8]: Int] = [:]
        for (index, slot) in slots.enumerated() where lookup[Array(slot.name.utf8)] == nil {
            lookup[Array(slot.name.utf8)] = index
        }
        self.lookup = lookup
        self.nameBytes = slots.map { Array($0.name.utf8) }
    }

    /// The slot a key names. Models have few inputs, and comparing a handful of short names beats
    /// hashing the key; the dictionary serves models with many.
    func index(of key: [UInt8]) -> Int? {
        guard nameBytes.count <= 8 else { return lookup[key] }
        for (index, name) in nameBytes.enumerated() where name == key { return index }
        return nil
    }

    var kind: String { isOutput ? "output" : "input" }

    /// "its inputs are INPUT0, INPUT1", for messages about unknown or missing names.
    var listing: String {
        slots.isEmpty ? "it has no \(kind)s" : "its \(kind)s are " + slots.map(\.name).joined(separator: ", ")
    }
}
