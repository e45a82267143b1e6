/// A KServe v2 tensor datatype, spelled as the protocol spells it.
public enum DataType: String, Sendable, CaseIterable, Codable {
    case bool = "BOOL"
    case uint8 = "UINT8"
    case uint16 = "UINT16"
    case uint32 = "UINT32"
    case uint64 = "UINT64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case fp16 = "FP16"
    case bf16 = "BF16"
    case fp32 = "FP32"
    case fp64 = "FP64"
    case bytes = "BYTES"

    /// Bytes per element, or nil for BYTES whose elements carry their own length.
    public var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .uint16, .int16, .fp16, .bf16: return 2
        case .uint32, .int32, .fp32: return 4
        case .uint64, .int64, .fp64: return 8
        case .bytes: return nil
        }
    }

    /// Parses either the protocol name (`FP32`) or the model-config name (`TYPE_FP32`; `TYPE_STRING` is BYTES).
    public init?(anySpelling text: String) {
        if let direct = DataType(rawValue: text) {
            self = direct
            return
        }
        guard text.hasPrefix("TYPE_") else { return nil }
        let stem = String(text.dropFirst(5))
        if stem == "STRING" {
            self = .bytes
            return
        }
        guard let fromConfig = DataType(rawValue: stem) else { return nil }
        self = fromConfig
    }
}

/// Element count of a fully known shape; nil when a dimension is still variable (-1) or the
/// product does not fit an `Int`.
public func elementCount(of shape: [Int64]) -> Int? {
    var count = 1
    for dim in shape {
        guard dim >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
        if overflow { return nil }
        count = product
    }
    return count
}
