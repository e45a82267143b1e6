import Foundation
import KServeGRPC
import KServeProtocol
import NIOCore
import Testing
@testable import PerfAnalyzerKit

/// The run-side half of --shared-memory that needs no server: region sizes and contents,
/// what the prepared requests say, and that every object goes away.
@Suite("Shared-memory layout and requests")
struct SharedMemoryLayoutTests {
    private let model = ModelDescription(
        name: "mixed", version: "", platform: "", maxBatchSize: 8,
        inputs: [.init(name: "INPUT0", datatype: .int32, shape: [2])],
        outputs: [.init(name: "FIXED", datatype: .fp32, shape: [3, 2]),
                  .init(name: "VARIABLE", datatype: .int32, shape: [-1]),
                  .init(name: "TEXT", datatype: .bytes, shape: [2])])

    private func step(_ a: Int32, _ b: Int32) -> DataStep {
        let bytes = [a, b].flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        return DataStep(tensors: [.init(name: "INPUT0", datatype: .int32, shape: [2], bytes: bytes)])
    }

    private func objects(_ regions: SharedMemoryRegions) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix(regions.prefix + "_") }.sorted()
    }

    @Test("outputs get their fixed size, or the per-entry size when the model does not fix it, times the batch")
    func outputSizes() throws {
        let regions = try SharedMemoryRegions.make(kind: .system)
        defer { regions.releaseLocally() }
        let layout = SharedMemoryLayout(regions: regions, model: model, batchSize: 4, outputSizePerEntry: 1000, separateOutputs: false)
        #expect(layout.outputByteSize(model.outputs[0]) == 3 * 2 * 4 * 4)
        #expect(layout.outputByteSize(model.outputs[1]) == 1000 * 4)
        #expect(layout.outputByteSize(model.outputs[2]) == 1000 * 4)
        var unbatched = model
        unbatched.maxBatchSize = 0
        let single = SharedMemoryLayout(regions: regions, model: unbatched, batchSize: 4, outputSizePerEntry: 1000, separateOutputs: false)
        #expect(single.outputByteSize(unbatched.outputs[0]) == 24)
    }

    @Test("each request's inputs sit in their own region; outputs are shared unless validating; all of it is unlinked")
    func regionsAndRelease() throws {
        let regions = try SharedMemoryRegions.make(kind: .system)
        #expect(regions.prefix.hasPrefix("spa_\(getpid())_"))
        let plan = RequestPlan(steps: [step(1, 2), step(3, 4), step(5, 6)], expected: nil)
        let layout = SharedMemoryLayout(regions: regions, model: model, batchSize: 2, outputSizePerEntry: 64, separateOutputs: false)
        var bindings: [SharedMemoryBinding] = []
        let builder = InferRequestBuilder(model: model, host: "h", headers: [], inputFormat: .binary, outputFormat: .binary)
        let requests = try plan.requests(batchSize: 2, builder: builder) { index, steps in
            let binding = try layout.bind(index: index, steps: steps)
            bindings.append(binding)
            return binding
        }
        #expect(requests.count == 3)
        // Requests start at steps 0, 2, 1 and hold two consecutive steps each.
        let starts = [0, 2, 1]
        let steps = plan.steps
        for (index, binding) in bindings.enumerated() {
            let slice = try #require(binding.inputs["INPUT0"])
            #expect(slice.region == "\(regions.prefix)_in_\(index)_INPUT0")
            #expect(slice.byteSize == 16)
            let mapping = try SharedMemoryMapping.open(key: "/" + slice.region, byteSize: 16)
            #expect(try mapping.read(count: 16) == steps[starts[index]].tensors[0].bytes + steps[(starts[index] + 1) % 3].tensors[0].bytes)
            mapping.close()
            #expect(binding.outputs == bindings[0].outputs)
        }
        #expect(bindings[0].outputs["FIXED"] == .init(region: "\(regions.prefix)_out_FIXED", byteSize: 48))
        #expect(bindings[0].outputs["TEXT"]?.byteSize == 128)
        #expect(objects(regions).count == 3 + 3)
        regions.releaseLocally()
        #expect(objects(regions).isEmpty)
    }

    @Test("with validation data every request writes its outputs to regions of its own")
    func separateOutputs() throws {
        let regions = try SharedMemoryRegions.make(kind: .system)
        defer { regions.releaseLocally() }
        let layout = SharedMemoryLayout(regions: regions, model: model, batchSize: 1, outputSizePerEntry: 64, separateOutputs: true)
        let first = try layout.bind(index: 0, steps: [step(1, 2)])
        let second = try layout.bind(index: 1, steps: [step(3, 4)])
        #expect(first.outputs["FIXED"]?.region == "\(regions.prefix)_out_0_FIXED")
        #expect(second.outputs["FIXED"]?.region == "\(regions.prefix)_out_1_FIXED")
        #expect(layout.outputRegions[1]?.contains("TEXT") == true)
    }

    @Test("BYTES outputs are read back by walking their length prefixes; a size past the region is one line")
    func readBack() throws {
        let regions = try SharedMemoryRegions.make(kind: .system)
        defer { regions.releaseLocally() }
        let layout = SharedMemoryLayout(regions: regions, model: model, batchSize: 1, outputSizePerEntry: 64, separateOutputs: true)
        let binding = try layout.bind(index: 0, steps: [step(1, 2)])
        let reader = try #require(layout.outputRegions[0])
        let text: [UInt8] = [2, 0, 0, 0, 104, 105, 0, 0, 0, 0]  // "hi", ""
        let mapping = try SharedMemoryMapping.open(key: "/" + binding.outputs["TEXT"]!.region, byteSize: text.count)
        try text.withUnsafeBytes { try mapping.write($0) }
        mapping.close()
        #expect(try reader.bytes(of: "TEXT", datatype: .bytes, shape: [2]) == text)
        #expect(try reader.bytes(of: "FIXED", datatype: .fp32, shape: [1, 3, 2]).count == 24)
        #expect(throws: SharedOutputRegions.ReadFailure.self) {
            try reader.bytes(of: "VARIABLE", datatype: .int32, shape: [100])
        }
    }

    @Test("requests name regions and sizes instead of carrying bytes, over HTTP and gRPC")
    func requestsPointAtRegions() throws {
        let binding = SharedMemoryBinding(inputs: ["INPUT0": .init(region: "r_in", byteSize: 8)],
                                          outputs: ["FIXED": .init(region: "r_fixed", byteSize: 24),
                                                    "VARIABLE": .init(region: "r_var", byteSize: 64),
                                                    "TEXT": .init(region: "r_text", byteSize: 64)])
        let http = try InferRequestBuilder(model: model, host: "h", headers: [], inputFormat: .binary, outputFormat: .binary)
            .build(steps: [step(1, 2)], sharedMemory: binding)
        let text = String(buffer: http.bytes)
        #expect(!text.contains("Inference-Header-Content-Length"))
        let header = try JSONDecoder().decode(InferRequestHeader.self, from: Data(text.components(separatedBy: "\r\n\r\n")[1].utf8))
        #expect(header.inputs[0].parameters == ["shared_memory_region": .string("r_in"), "shared_memory_byte_size": .int(8)])
        #expect(header.inputs[0].data == nil)
        #expect(header.outputs?.first { $0.name == "TEXT" }?.parameters == ["shared_memory_region": .string("r_text"), "shared_memory_byte_size": .int(64)])

        let grpc = try GRPCInferRequestBuilder(model: model, requestsFinalResponseMarker: false).build(steps: [step(1, 2)], sharedMemory: binding)
        let decoded = try Inference_ModelInferRequest(serializedBytes: Array(grpc.bytes.readableBytesView))
        #expect(decoded.rawInputContents.isEmpty)
        #expect(decoded.inputs[0].parameters["shared_memory_region"]?.stringParam == "r_in")
        #expect(decoded.inputs[0].parameters["shared_memory_byte_size"]?.int64Param == 8)
        #expect(decoded.outputs.first { $0.name == "FIXED" }?.parameters["shared_memory_region"]?.stringParam == "r_fixed")
    }
}
