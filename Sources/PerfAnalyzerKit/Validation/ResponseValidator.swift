import KServeProtocol
import NIOCore

/// The outputs a request must produce, from `validation_data` (stacked like its inputs for `-b`).
public struct ExpectedOutputs: Sendable, Equatable {
    /// The data steps the request carries, in batch order, for messages.
    public var steps: [Int]
    public var tensors: [DataStep.Tensor]
    /// With `--shared-memory`: the regions the server writes this request's outputs to.
    public var outputRegions: SharedOutputRegions? = nil

    public init(steps: [Int], tensors: [DataStep.Tensor]) {
        self.steps = steps
        self.tensors = tensors
    }

    public static func == (lhs: ExpectedOutputs, rhs: ExpectedOutputs) -> Bool {
        lhs.steps == rhs.steps && lhs.tensors == rhs.tensors
    }

    var step: Int { steps.first ?? 0 }

    /// Names the data step and the index inside it of element `index` of a stacked output.
    func locate(_ index: Int, elementCount: Int) -> String {
        guard steps.count > 1, elementCount % steps.count == 0 else { return "data step \(step), index \(index)" }
        let perStep = elementCount / steps.count
        return "data step \(steps[index / perStep]), index \(index % perStep)"
    }
}

/// Compares a response's outputs with the expected ones, element by element.
public enum ResponseValidator {
    /// nil when every expected output matches; otherwise one line naming the output,
    /// the data step and the first differing index, expected against received.
    public static func mismatch(body: ByteBuffer, inferenceHeaderLength: Int?, expected: ExpectedOutputs) -> String? {
        let response: InferBody.Response
        do {
            response = try InferBody.decodeResponse(body, headerLength: inferenceHeaderLength)
        } catch {
            return "validation of data step \(expected.step): \(error)"
        }
        for tensor in expected.tensors {
            guard let output = response.header.outputs.first(where: { $0.name == tensor.name }) else {
                return "validation of data step \(expected.step): the response has no output '\(tensor.name)'"
            }
            let received: [UInt8]
            if let regions = expected.outputRegions, regions.contains(tensor.name) {
                do {
                    received = try regions.bytes(of: tensor.name, datatype: DataType(rawValue: output.datatype), shape: output.shape)
                } catch {
                    return "validation of data step \(expected.step): \(error.description)"
                }
            } else if let binary = response.binaryOutputs[tensor.name] {
                received = Array(binary.readableBytesView)
            } else if let data = output.data {
                do {
                    received = try TensorCodec.binary(fromJSON: TensorCodec.flatten(data), datatype: tensor.datatype)
                } catch {
                    return "validation of output '\(tensor.name)', data step \(expected.step): \(error.description)"
                }
            } else {
                return "validation of data step \(expected.step): output '\(tensor.name)' carries no data"
            }
            if let message = compare(tensor, received: received, expected: expected) { return message }
        }
        return nil
    }

    /// The same check for outputs already split out by name (gRPC's raw output contents).
    static func mismatch(outputs: [String: [UInt8]], expected: ExpectedOutputs) -> String? {
        for tensor in expected.tensors {
            guard let received = outputs[tensor.name] else {
                return "validation of data step \(expected.step): the response has no output '\(tensor.name)'"
            }
            if let message = compare(tensor, received: received, expected: expected) { return message }
        }
        return nil
    }

    private static func compare(_ tensor: DataStep.Tensor, received: [UInt8], expected: ExpectedOutputs) -> String? {
        guard let difference = firstDifference(expected: tensor.bytes, received: received, datatype: tensor.datatype) else { return nil }
        let place = difference.index.map { expected.locate($0, elementCount: difference.expectedCount) } ?? "data step \(expected.step)"
        return "validation failed for output '\(tensor.name)', \(place): \(difference.text)"
    }

    struct Difference: Equatable {
        /// Element index in the (stacked) output, nil when the element counts differ.
        var index: Int?
        var expectedCount: Int
        var text: String
    }

    /// The first element that differs, or nil when the contents are equal.
    static func firstDifference(expected: [UInt8], received: [UInt8], datatype: DataType) -> Difference? {
        if expected == received { return nil }
        if let size = datatype.elementSize {
            let expectedCount = expected.count / size
            let receivedCount = received.count / size
            guard expectedCount == receivedCount else {
                return Difference(index: nil, expectedCount: expectedCount, text: "expected \(expectedCount) elements, received \(receivedCount)")
            }
            for index in 0..<expectedCount {
                let range = (index * size)..<((index + 1) * size)
                if expected[range] != received[range] {
                    return Difference(index: index, expectedCount: expectedCount,
                                      text: "expected \(render(Array(expected[range]), datatype)), received \(render(Array(received[range]), datatype))")
                }
            }
            return nil
        }
        guard let expectedElements = try? TensorCodec.splitByteElements(expected),
              let receivedElements = try? TensorCodec.splitByteElements(received) else {
            return Difference(index: nil, expectedCount: 0, text: "the BYTES contents could not be split into elements")
        }
        guard expectedElements.count == receivedElements.count else {
            return Difference(index: nil, expectedCount: expectedElements.count,
                              text: "expected \(expectedElements.count) elements, received \(receivedElements.count)")
        }
        for index in 0..<expectedElements.count where expectedElements[index] != receivedElements[index] {
            return Difference(index: index, expectedCount: expectedElements.count,
                              text: "expected \"\(String(decoding: expectedElements[index], as: UTF8.self))\", received \"\(String(decoding: receivedElements[index], as: UTF8.self))\"")
        }
        return nil
    }

    private static func render(_ bytes: [UInt8], _ datatype: DataType) -> String {
        guard let value = try? TensorCodec.json(fromBinary: bytes, datatype: datatype).first else { return "\(bytes)" }
        switch value {
        case .int(let number): return String(number)
        case .uint(let number): return String(number)
        case .double(let number): return String(number)
        case .bool(let flag): return String(flag)
        case .string(let text): return "\"\(text)\""
        default: return "\(bytes)"
        }
    }
}
