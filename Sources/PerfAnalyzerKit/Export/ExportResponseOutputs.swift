import KServeGRPC
import KServeProtocol
import NIOCore

/// Reads the outputs of a response body back for the profile export: each output's name,
/// datatype and bytes, in the order the server sent them. Runs off the event loops.
enum ExportResponseOutputs {
    enum Wire: Sendable {
        /// An HTTP body: JSON header, then binary tensor data.
        case http
        /// A `ModelInferResponse` (unary gRPC).
        case grpcUnary
        /// A `ModelStreamInferResponse` (`--streaming`).
        case grpcStream
        /// `--service-kind triton_c_api`: the outputs `CAPIResponseOutputs` captured.
        case cAPI
        /// `--service-kind openai`: an event of a stream (`data: ...` and its blank line) or a
        /// whole JSON answer, written as text under `response`, as perf_analyzer writes it.
        case openAI
    }

    /// Appends the `{"NAME":value,...}` object of one response to `out`; `{}` when it cannot be read.
    static func append(_ body: ExportBatch.Body, wire: Wire, to out: inout [UInt8]) {
        if case .openAI = wire {
            out += Array("{\"response\":".utf8)
            body.bytes.withUnsafeReadableBytes { JSONText.appendQuoted($0, to: &out) }
            out.append(UInt8(ascii: "}"))
            return
        }
        out += ExportValueEncoding.object(((try? tensors(body, wire: wire)) ?? []).sorted { $0.name < $1.name })
    }

    static func tensors(_ body: ExportBatch.Body, wire: Wire) throws -> [(name: String, datatype: DataType?, bytes: [UInt8])] {
        guard body.bytes.readableBytes > 0 else { return [] }
        switch wire {
        case .http:
            let response = try InferBody.decodeResponse(body.bytes, headerLength: body.headerLength)
            return response.header.outputs.map { output in
                let datatype = DataType(rawValue: output.datatype)
                if let binary = response.binaryOutputs[output.name] { return (output.name, datatype, Array(binary.readableBytesView)) }
                if let data = output.data, let datatype, let bytes = try? TensorCodec.binary(fromJSON: TensorCodec.flatten(data), datatype: datatype) {
                    return (output.name, datatype, bytes)
                }
                return (output.name, datatype, [])
            }
        case .grpcUnary:
            return grpc(try Inference_ModelInferResponse(serializedBytes: Array(body.bytes.readableBytesView)))
        case .grpcStream:
            return grpc(try Inference_ModelStreamInferResponse(serializedBytes: Array(body.bytes.readableBytesView)).inferResponse)
        case .cAPI:
            return (CAPIResponseOutputs.tensors(body.bytes) ?? []).map { ($0.name, $0.datatype, $0.bytes) }
        case .openAI:
            return []
        }
    }

    private static func grpc(_ response: Inference_ModelInferResponse) -> [(name: String, datatype: DataType?, bytes: [UInt8])] {
        response.outputs.enumerated().map { index, output in
            let bytes = index < response.rawOutputContents.count ? Array(response.rawOutputContents[index]) : []
            return (output.name, DataType(rawValue: output.datatype), bytes)
        }
    }
}
