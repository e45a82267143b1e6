import KServeProtocol
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The inputs of every prepared request in the form the C API takes them: name, datatype,
/// shape and a pointer to the tensor's bytes, all in memory this table owns and never moves, so
/// a slot hands Triton pointers without copying (Triton reads input data in place until it
/// releases the request).
final class CAPIRequestTable: @unchecked Sendable {
    struct Input {
        var name: UnsafePointer<CChar>
        var datatype: UInt32
        var shape: UnsafePointer<Int64>
        var dimensionCount: UInt64
        var bytes: UnsafeRawPointer?
        var byteCount: Int
    }

    /// Every request's inputs, back to back; `ranges[i]` are request i's.
    let inputs: [Input]
    let ranges: [Range<Int>]
    private let allocations: [UnsafeMutableRawPointer]

    private init(inputs: [Input], ranges: [Range<Int>], allocations: [UnsafeMutableRawPointer]) {
        self.inputs = inputs
        self.ranges = ranges
        self.allocations = allocations
    }

    deinit {
        for allocation in allocations { free(allocation) }
    }

    /// Triton's TRITONSERVER_DataType for a KServe datatype name.
    static func tritonDataType(_ datatype: DataType) -> UInt32 {
        switch datatype {
        case .bool: return 1
        case .uint8: return 2
        case .uint16: return 3
        case .uint32: return 4
        case .uint64: return 5
        case .int8: return 6
        case .int16: return 7
        case .int32: return 8
        case .int64: return 9
        case .fp16: return 10
        case .fp32: return 11
        case .fp64: return 12
        case .bytes: return 13
        case .bf16: return 14
        }
    }

    /// The KServe datatype of a TRITONSERVER_DataType; nil for INVALID or an unknown code.
    static func dataType(tritonCode: UInt32) -> DataType? {
        DataType.allCases.first { tritonDataType($0) == tritonCode }
    }

    /// Collects the stacked inputs of each request as `RequestPlan` builds them, in order.
    final class Builder: Sendable {
        private let collected = NIOLockedValueBox<[[StackedInput]]>([])

        func append(_ request: [StackedInput]) {
            collected.withLockedValue { $0.append(request) }
        }

        /// One allocation for names, one for shapes, one for tensor bytes.
        func finish() -> CAPIRequestTable {
            let requests = collected.withLockedValue { $0 }
            var names: [String: Int] = [:]
            var nameBytes: [UInt8] = []
            var shapeCount = 0, byteCount = 0
            for request in requests {
                for input in request {
                    if names[input.name] == nil {
                        names[input.name] = nameBytes.count
                        nameBytes += Array(input.name.utf8) + [0]
                    }
                    shapeCount += input.shape.count
                    byteCount += input.bytes.count
                }
            }
            let nameStore = malloc(max(1, nameBytes.count))!
            nameBytes.withUnsafeBytes { nameStore.copyMemory(from: $0.baseAddress!, byteCount: nameBytes.count) }
            let shapeStore = malloc(max(1, shapeCount * MemoryLayout<Int64>.stride))!
            let byteStore = malloc(max(1, byteCount))!
            let shapes = shapeStore.bindMemory(to: Int64.self, capacity: max(1, shapeCount))
            var inputs: [Input] = []
            var ranges: [Range<Int>] = []
            var shapeAt = 0, byteAt = 0
            for request in requests {
                let start = inputs.count
                for input in request {
                    for (offset, dim) in input.shape.enumerated() { shapes[shapeAt + offset] = dim }
                    input.bytes.withUnsafeBytes { source in
                        if let base = source.baseAddress { (byteStore + byteAt).copyMemory(from: base, byteCount: source.count) }
                    }
                    let name = UnsafePointer((nameStore + names[input.name]!).assumingMemoryBound(to: CChar.self))
                    inputs.append(Input(name: name, datatype: tritonDataType(input.datatype), shape: UnsafePointer(shapes + shapeAt),
                                        dimensionCount: UInt64(input.shape.count), bytes: UnsafeRawPointer(byteStore + byteAt),
                                        byteCount: input.bytes.count))
                    shapeAt += input.shape.count
                    byteAt += input.bytes.count
                }
                ranges.append(start..<inputs.count)
            }
            return CAPIRequestTable(inputs: inputs, ranges: ranges, allocations: [nameStore, shapeStore, byteStore])
        }
    }
}

/// The request encoding of `--service-kind triton_c_api`: nothing goes on a wire, so a prepared
/// request is only its batch size and description; its tensors go to the table's builder.
struct CAPIRequestEncoding: InferRequestEncoding {
    var model: ModelDescription
    var table: CAPIRequestTable.Builder

    func build(steps: [DataStep], sharedMemory: SharedMemoryBinding?) throws -> PreparedRequest {
        precondition(!steps.isEmpty)
        let inputs = StackedInput.stack(steps, batched: model.supportsBatching)
        table.append(inputs)
        let header = inputs.map { "\($0.name) \($0.datatype.rawValue) \($0.shape)" }.joined(separator: ", ")
        return PreparedRequest(bytes: ByteBuffer(), batchSize: steps.count, jsonHeader: "model \(model.name), inputs: \(header)")
    }
}
