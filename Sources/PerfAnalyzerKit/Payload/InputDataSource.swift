import KServeProtocol

/// Where input tensors come from (`--input-data`).
public enum InputDataSource: Sendable, Equatable {
    /// Random contents generated once per input and reused for every request (perf_analyzer's default).
    case random
    /// All-zero contents.
    case zero
    /// One raw file per input (and optionally per output, for validation).
    case directory(String)
    /// JSON files whose streams are appended in order.
    case jsonFiles([String])
}

/// The contents of every input for one request of batch size 1: one "data step".
public struct DataStep: Sendable, Equatable {
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var datatype: DataType
        /// Shape without the batch dimension.
        public var shape: [Int64]
        /// Raw little-endian bytes (BYTES: length-prefixed elements).
        public var bytes: [UInt8]
    }
    public var tensors: [Tensor]
}

/// Generates the single data step used by `random` and `zero` input data.
public enum GeneratedInputData {
    /// Why an input cannot be generated: its shape is not known, or its bytes would not fit one request.
    public struct MissingShape: Error, CustomStringConvertible, Equatable {
        public var input: String
        public var shape: [Int64]
        /// Set when the shape is known but too large.
        public var tooLarge: String? = nil
        public var description: String {
            tooLarge ?? "input '\(input)' has variable-sized dimensions \(shape); give its shape with --shape \(input):<dims>"
        }
    }

    /// Characters of random strings, printable so they survive JSON and logs.
    static let stringAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890 .?!".utf8)

    /// `stringData`, when given, fills every BYTES element (`--string-data`); otherwise strings
    /// are random (or "0"s for zero data) of `stringLength` characters.
    public static func makeStep(model: ModelDescription, source: InputDataSource, shapes: [String: [Int64]],
                                stringLength: Int, stringData: String? = nil, seed: UInt64 = 0x5EED) throws(MissingShape) -> DataStep {
        let random = source == .random
        var generator = SplitMix64(state: seed)
        var tensors: [DataStep.Tensor] = []
        for input in model.inputs {
            let shape = shapes[input.name] ?? input.shape
            guard shape.allSatisfy({ $0 >= 0 }) else { throw MissingShape(input: input.name, shape: input.shape) }
            let perElement = input.datatype.elementSize ?? 4 + (stringData.map { $0.utf8.count } ?? stringLength)
            guard let count = TensorShapes.elementCount(shape),
                  let byteSize = TensorShapes.multiplied(count, perElement), byteSize <= NumericBounds.maxRequestBytes else {
                let elements = shape.map(String.init).joined(separator: "×")
                throw MissingShape(input: input.name, shape: shape, tooLarge: "input '\(input.name)': shape \(TensorShapes.describe(shape)) of \(input.datatype.rawValue) makes \(elements) elements of \(perElement) bytes, more than the \(NumericBounds.maxRequestBytes) bytes one request can carry")
            }
            var bytes: [UInt8] = []
            if input.datatype.elementSize != nil {
                bytes = [UInt8](repeating: 0, count: byteSize)
                if random {
                    for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: generator.next()) }
                    if input.datatype == .bool {
                        for index in bytes.indices { bytes[index] &= 1 }
                    }
                }
            } else if let stringData {
                let utf8 = Array(stringData.utf8)
                for _ in 0..<count {
                    appendLittleEndian(UInt32(utf8.count), to: &bytes)
                    bytes.append(contentsOf: utf8)
                }
            } else {
                bytes.reserveCapacity(byteSize)
                for _ in 0..<count {
                    appendLittleEndian(UInt32(stringLength), to: &bytes)
                    for _ in 0..<stringLength {
                        bytes.append(random ? stringAlphabet[Int(generator.next() % UInt64(stringAlphabet.count))] : UInt8(ascii: "0"))
                    }
                }
            }
            tensors.append(DataStep.Tensor(name: input.name, datatype: input.datatype, shape: shape, bytes: bytes))
        }
        return DataStep(tensors: tensors)
    }
}

/// A small, fast, seedable generator so runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
