import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import NIOCore

/// Translations between the simulator's own types and the KServe v2 protobuf
/// messages, so the gRPC service answers with the same facts as the HTTP one.
enum GRPCConversions {
    // MARK: Model description

    static func metadata(of model: ModelDefinition) -> Inference_ModelMetadataResponse {
        Inference_ModelMetadataResponse(model.metadata)
    }

    /// The config the HTTP endpoint reports, in proto form; ensembles also get
    /// their steps' tensor maps, which the JSON form leaves out.
    static func config(of model: ModelDefinition) -> Inference_ModelConfig {
        var config = Inference_ModelConfig(model.config)
        if case .ensemble(let steps) = model.behavior {
            for (index, definition) in steps.enumerated() where index < config.ensembleScheduling.step.count {
                config.ensembleScheduling.step[index].inputMap = definition.inputMap
                config.ensembleScheduling.step[index].outputMap = definition.outputMap
            }
        }
        return config
    }

    // MARK: Statistics

    static func statistics(_ stats: ModelStatistics) -> Inference_ModelStatistics {
        Inference_ModelStatisticsResponse(StatisticsResponse(modelStats: [stats])).modelStats[0]
    }

    // MARK: Parameters

    /// Request parameters as the HTTP path sees them (so sequence flags and ids read the same); nil when none.
    static func parameters(_ parameters: [String: Inference_InferParameter]) -> [String: JSONValue]? {
        guard !parameters.isEmpty else { return nil }
        return parameters.mapValues { parameter in
            switch parameter.parameterChoice {
            case .boolParam(let value)?: return .bool(value)
            case .int64Param(let value)?: return .int(value)
            case .stringParam(let value)?: return .string(value)
            case nil: return .null
            }
        }
    }

    static func boolParameter(_ value: Bool) -> Inference_InferParameter {
        var parameter = Inference_InferParameter()
        parameter.boolParam = value
        return parameter
    }

    // MARK: Tensors

    /// The raw little-endian form of typed `contents`, as `raw_input_contents` would carry it.
    static func rawBytes(of contents: Inference_InferTensorContents, datatype: DataType,
                         input: String, model: String) throws(InferError) -> [UInt8] {
        var out: [UInt8] = []
        func narrowed<Wide: BinaryInteger, Narrow: FixedWidthInteger>(_ values: [Wide], as _: Narrow.Type) throws(InferError) {
            for value in values {
                guard let fitted = Narrow(exactly: value) else {
                    throw InferError("value \(value) of input '\(input)' for model '\(model)' does not fit \(datatype.rawValue)")
                }
                appendLittleEndian(fitted, to: &out)
            }
        }
        switch datatype {
        case .bool: out = contents.boolContents.map { $0 ? 1 : 0 }
        case .uint8: try narrowed(contents.uintContents, as: UInt8.self)
        case .uint16: try narrowed(contents.uintContents, as: UInt16.self)
        case .uint32: try narrowed(contents.uintContents, as: UInt32.self)
        case .uint64: try narrowed(contents.uint64Contents, as: UInt64.self)
        case .int8: try narrowed(contents.intContents, as: Int8.self)
        case .int16: try narrowed(contents.intContents, as: Int16.self)
        case .int32: try narrowed(contents.intContents, as: Int32.self)
        case .int64: try narrowed(contents.int64Contents, as: Int64.self)
        case .fp32: for value in contents.fp32Contents { appendLittleEndian(value.bitPattern, to: &out) }
        case .fp64: for value in contents.fp64Contents { appendLittleEndian(value.bitPattern, to: &out) }
        case .bytes:
            for element in contents.bytesContents {
                appendLittleEndian(UInt32(element.count), to: &out)
                out.append(contentsOf: element)
            }
        case .fp16, .bf16:
            // The proto has no field for half floats; Triton takes them only as raw contents.
            throw InferError("input '\(input)' for model '\(model)' is \(datatype.rawValue), which must be sent in raw_input_contents")
        }
        return out
    }

    static func data(_ buffer: ByteBuffer) -> Data {
        buffer.withUnsafeReadableBytes { Data($0) }
    }

    // MARK: Metadata

    /// gRPC metadata as the recorder's `headers`: names lowercased, without the
    /// entries every gRPC call carries (pseudo-headers, `grpc-*`, `te`, ...).
    static func recordedHeaders(_ metadata: Metadata) -> [String: String] {
        var headers: [String: String] = [:]
        for (key, value) in metadata {
            let name = key.lowercased()
            if name.hasPrefix(":") || name.hasPrefix("grpc-") || transportHeaders.contains(name) { continue }
            if headers[name] == nil { headers[name] = value.encoded() }
        }
        return headers
    }

    private static let transportHeaders: Set<String> = ["te", "content-type", "user-agent"]
}
