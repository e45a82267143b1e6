import Foundation
import KServeGRPC
import KServeProtocol
import NIOCore
import Testing
@testable import PerfAnalyzerKit

/// Requests written from frames (each layout encoded once, the steps' bytes copied in) must be
/// the very requests the builders make one by one.
@Suite("Prepared requests from frames")
struct PreparedRequestFrameTests {
    private static let model = ModelDescription(
        name: "pair", version: "2", platform: "python", maxBatchSize: 8,
        inputs: [.init(name: "IDS", datatype: .int32, shape: [-1]), .init(name: "MASK", datatype: .bool, shape: [2], optional: true)],
        outputs: [.init(name: "OUT", datatype: .fp32, shape: [-1])])

    /// Steps of three layouts: two lengths of IDS, and one step without the optional MASK.
    private static let steps: [DataStep] = (0..<7).map { index in
        let ids = (0..<(index % 3 == 0 ? 3 : 2)).map { Int32(index * 10 + $0) }
        var tensors = [DataStep.Tensor(name: "IDS", datatype: .int32, shape: [Int64(ids.count)],
                                       bytes: ids.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } })]
        if index != 4 { tensors.append(.init(name: "MASK", datatype: .bool, shape: [2], bytes: [1, UInt8(index % 2)])) }
        return DataStep(tensors: tensors)
    }

    /// What the builder makes for each request of the plan, one request at a time.
    private func oneByOne(_ plan: RequestPlan, batchSize: Int, _ builder: some InferRequestEncoding) throws -> [PreparedRequest] {
        let count = plan.steps.count / gcd(plan.steps.count, batchSize)
        return try (0..<count).map { index in
            try builder.build(steps: (0..<batchSize).map { plan.steps[(index * batchSize + $0) % plan.steps.count] })
        }
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    @Test("HTTP: the same bytes, header text and batch size, over several layouts")
    func http() throws {
        // Steps 0, 3 and 6 have three IDS, the others two; -b 1 keeps every layout apart.
        let plan = RequestPlan(steps: Self.steps, expected: nil)
        let builder = InferRequestBuilder(model: Self.model, host: "h:1", headers: [HeaderField(name: "X-A", value: "1")],
                                          inputFormat: .binary, outputFormat: .binary,
                                          parameters: [RequestParameter(name: "priority", value: .int(3))])
        let framed = try plan.requests(batchSize: 1, builder: builder)
        let expected = try oneByOne(plan, batchSize: 1, builder)
        #expect(framed.count == expected.count)
        for (made, wanted) in zip(framed, expected) {
            #expect(Array(made.bytes.readableBytesView) == Array(wanted.bytes.readableBytesView))
            #expect(made.jsonHeader == wanted.jsonHeader)
            #expect(made.batchSize == wanted.batchSize)
            #expect(made.template == nil)
        }
    }

    @Test("HTTP sequence models: the template rebuilds each request with its sequence parameters")
    func httpSequence() throws {
        var model = Self.model
        model.maxBatchSize = 0
        model.sequenceControls = .init(startInput: "START")
        let uniform = Self.steps.filter { $0.tensors.count == 2 && $0.tensors[0].shape == [2] }
        let plan = RequestPlan(steps: uniform, expected: nil)
        let builder = InferRequestBuilder(model: model, host: "h:1", headers: [], inputFormat: .binary, outputFormat: .json)
        let framed = try plan.requests(batchSize: 1, builder: builder)
        let expected = try oneByOne(plan, batchSize: 1, builder)
        let mark = SequenceMark(id: 42, start: true, end: false)
        for (made, wanted) in zip(framed, expected) {
            let template = try #require(made.template)
            let wantedTemplate = try #require(wanted.template)
            #expect(Array(template.render(mark, from: made.bytes).readableBytesView)
                    == Array(wantedTemplate.render(mark, from: wanted.bytes).readableBytesView))
            #expect(Array(template.render(nil, from: made.bytes).readableBytesView) == Array(made.bytes.readableBytesView))
        }
    }

    @Test("gRPC: the same serialized messages, batched or not")
    func grpc() throws {
        let uniform = Self.steps.filter { $0.tensors.count == 2 }
        for batchSize in [1, 2, 3] {
            let plan = RequestPlan(steps: batchSize == 1 ? Self.steps : uniform.filter { $0.tensors[0].shape == [2] }, expected: nil)
            let builder = GRPCInferRequestBuilder(model: Self.model, requestsFinalResponseMarker: false,
                                                  parameters: [RequestParameter(name: "priority", value: .int(3))])
            let framed = try plan.requests(batchSize: batchSize, builder: builder)
            let expected = try oneByOne(plan, batchSize: batchSize, builder)
            #expect(framed.count == expected.count)
            for (made, wanted) in zip(framed, expected) {
                #expect(Array(made.bytes.readableBytesView) == Array(wanted.bytes.readableBytesView))
                #expect(made.jsonHeader == wanted.jsonHeader)
                #expect(made.batchSize == batchSize)
                let decoded = try Inference_ModelInferRequest(serializedBytes: Array(made.bytes.readableBytesView))
                #expect(decoded.rawInputContents.count == decoded.inputs.count)
            }
        }
    }

    @Test("HTTP -b 3 stacks three consecutive steps per request, wrapping round")
    func batched() throws {
        let uniform = Self.steps.filter { $0.tensors.count == 2 && $0.tensors[0].shape == [2] }
        let plan = RequestPlan(steps: uniform, expected: nil)
        let builder = InferRequestBuilder(model: Self.model, host: "h:1", headers: [], inputFormat: .binary, outputFormat: .binary)
        let framed = try plan.requests(batchSize: 3, builder: builder)
        let expected = try oneByOne(plan, batchSize: 3, builder)
        #expect(framed.map { Array($0.bytes.readableBytesView) } == expected.map { Array($0.bytes.readableBytesView) })
        #expect(framed.allSatisfy { $0.batchSize == 3 })
    }

    @Test("steps batched together must hold the same inputs")
    func differentInputs() throws {
        let plan = RequestPlan(steps: Array(Self.steps[3...5]), expected: nil)  // step 4 has no MASK
        let builder = InferRequestBuilder(model: Self.model, host: "h", headers: [], inputFormat: .binary, outputFormat: .binary)
        #expect(throws: RequestPlan.PlanError.self) { _ = try plan.requests(batchSize: 2, builder: builder) }
        let error = #expect(throws: RequestPlan.PlanError.self) {
            _ = try RequestPlan(steps: [Self.steps[1], Self.steps[4]], expected: nil).requests(batchSize: 2, builder: builder)
        }
        #expect(error?.description == "-b 2: data steps 0 and 1 give the inputs IDS, MASK and IDS; steps batched together need the same inputs")
    }

    @Test("many small requests share a few buffers, large ones get their own, every one comes back once")
    func writer() {
        var writer = PreparedBytesWriter()
        var delivered: [Int: ByteBuffer] = [:]
        // About 5 MB of small requests (two buffers' worth) with a few large ones among them.
        let sizes = (0..<12_000).map { $0 % 2_999 == 0 ? PreparedBytesWriter.ownBufferSize + $0 : 300 + $0 % 200 }
        func contents(_ index: Int, _ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) } }
        for (index, size) in sizes.enumerated() {
            writer.write(request: index, byteCount: size, deliver: { delivered[$0] = $1 }) { $0.writeBytes(contents(index, size)) }
        }
        writer.finish { delivered[$0] = $1 }
        #expect(delivered.count == sizes.count)
        for (index, size) in sizes.enumerated() {
            #expect(delivered[index].map { Array($0.readableBytesView) } == contents(index, size))
        }
    }

    @Test("a table gives back the steps it was made from, empty steps included")
    func table() {
        var table = DataStepTable(Self.steps)
        table.appendEmptySteps(2)
        table.append(Self.steps[0])
        #expect(table.count == Self.steps.count + 3)
        #expect(Array(table.prefix(Self.steps.count)) == Self.steps)
        #expect(table[Self.steps.count].tensors.isEmpty && table[Self.steps.count + 1].tensors.isEmpty)
        #expect(table[Self.steps.count + 2] == Self.steps[0])
        #expect(table.shapes == [[3], [2]])  // IDS's [2] and MASK's [2] are one entry
    }
}
