import Foundation
import KServeGRPC

extension ResponseValidator {
    /// Validates a gRPC response: `raw_output_contents[i]` holds the bytes of `outputs[i]`.
    static func mismatch(response: Inference_ModelInferResponse, expected: ExpectedOutputs) -> String? {
        var outputs: [String: [UInt8]] = [:]
        for (index, output) in response.outputs.enumerated() where index < response.rawOutputContents.count {
            outputs[output.name] = [UInt8](response.rawOutputContents[index])
        }
        return mismatch(outputs: outputs, expected: expected)
    }
}
