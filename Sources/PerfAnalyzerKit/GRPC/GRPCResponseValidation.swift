import Foundation
import KServeGRPC
import KServeProtocol

extension ResponseValidator {
    /// Validates a gRPC response: `raw_output_contents[i]` holds the bytes of `outputs[i]`.
    static func mismatch(response: Inference_ModelInferResponse, expected: ExpectedOutputs) -> String? {
        var outputs: [String: [UInt8]] = [:]
        for (index, output) in response.outputs.enumerated() {
            if let regions = expected.outputRegions, regions.contains(output.name) {
                // Written to shared memory: the response has only its shape.
                do {
                    outputs[output.name] = try regions.bytes(of: output.name, datatype: DataType(rawValue: output.datatype), shape: output.shape)
                } catch {
                    return "validation of data step \(expected.step): \(error.description)"
                }
            } else if index < response.rawOutputContents.count {
                outputs[output.name] = [UInt8](response.rawOutputContents[index])
            }
        }
        return mismatch(outputs: outputs, expected: expected)
    }
}
