import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import NIOCore
import Synchronization
import Testing
@testable import KServeSim

/// A POSIX shared-memory object made for one test, under a name no other test
/// (or concurrent test process) uses; `withSharedMemoryObjects` always unlinks it.
struct TestSharedMemoryObject: Sendable {
    let key: String
    let mapping: SharedMemoryMapping

    private static let counter = Atomic<Int>(0)

    static func uniqueKey() -> String {
        "/kserve-sim-test-\(getpid())-\(counter.add(1, ordering: .relaxed).newValue)"
    }

    func write(_ bytes: [UInt8], at position: Int = 0) throws {
        try bytes.withUnsafeBytes { try mapping.write($0, at: position) }
    }

    func read(at position: Int = 0, count: Int) throws -> [UInt8] {
        try mapping.read(at: position, count: count)
    }
}

/// Creates one object per size, runs `body`, and unlinks them all, even when `body` fails.
func withSharedMemoryObjects<Result: Sendable>(
    sizes: [Int], _ body: ([TestSharedMemoryObject]) async throws -> Result
) async throws -> Result {
    var objects: [TestSharedMemoryObject] = []
    defer {
        for object in objects {
            object.mapping.close()
            try? SharedMemoryMapping.unlink(key: object.key)
        }
    }
    for size in sizes {
        let key = TestSharedMemoryObject.uniqueKey()
        objects.append(TestSharedMemoryObject(key: key, mapping: try SharedMemoryMapping.create(key: key, byteSize: size)))
    }
    return try await body(objects)
}

/// One line of the record file, with the per-input field that says where an input came from.
private struct RecordedSharedInputs: Decodable {
    struct Input: Decodable {
        var name: String
        var data: [JSONValue]
        var shared_memory_region: String?
    }
    var inputs: [Input]

    static func read(_ path: String) throws -> [RecordedSharedInputs] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Self.self, from: Data($0.utf8)) }
    }
}

private struct RegionStatus: Codable, Equatable {
    var name: String
    var key: String
    var offset: Int
    var byte_size: Int
}

extension TestClient {
    fileprivate func register(_ region: String, key: String, offset: Int = 0, byteSize: Int) async throws -> TestResponse {
        try await post("/v2/systemsharedmemory/region/\(region)/register",
                       json: #"{"key":"\#(key)","offset":\#(offset),"byte_size":\#(byteSize)}"#)
    }

    fileprivate func registerOrFail(_ region: String, key: String, offset: Int = 0, byteSize: Int) async throws {
        let response = try await register(region, key: key, offset: offset, byteSize: byteSize)
        guard response.status == .ok else { throw TestClientError("register \(region): \(response.status) \(response.text)") }
    }

    fileprivate func regionStatus(_ region: String? = nil) async throws -> [RegionStatus] {
        let path = region.map { "/v2/systemsharedmemory/region/\($0)/status" } ?? "/v2/systemsharedmemory/status"
        let response = try await get(path)
        guard response.status == .ok else { throw TestClientError("status: \(response.status) \(response.text)") }
        return try response.decode([RegionStatus].self)
    }
}

/// Tensor parameters that point at a region.
private func sharedMemoryParameters(_ region: String, byteSize: Int, offset: Int? = nil) -> [String: JSONValue] {
    var parameters: [String: JSONValue] = ["shared_memory_region": .string(region),
                                           "shared_memory_byte_size": .int(Int64(byteSize))]
    if let offset { parameters["shared_memory_offset"] = .int(Int64(offset)) }
    return parameters
}

private func grpcSharedMemoryParameters(_ region: String, byteSize: Int, offset: Int? = nil) -> [String: Inference_InferParameter] {
    var parameters = ["shared_memory_region": stringParameter(region), "shared_memory_byte_size": int64Parameter(Int64(byteSize))]
    if let offset { parameters["shared_memory_offset"] = int64Parameter(Int64(offset)) }
    return parameters
}

/// An HTTP request whose inputs are all in shared memory: a JSON body only.
private func sharedInputRequest(model: String, inputs: [(String, DataType, [Int64], [String: JSONValue])],
                                outputs: [InferRequestHeader.RequestedOutput]? = nil) -> TestRequest {
    let header = InferRequestHeader(
        inputs: inputs.map { .init(name: $0.0, shape: $0.2, datatype: $0.1, parameters: $0.3) }, outputs: outputs)
    let json = try! JSONEncoder().encode(header)
    return TestRequest(method: .POST, path: "/v2/models/\(model)/infer", body: ByteBuffer(bytes: json))
}

private func grpcInput(_ name: String, _ datatype: DataType, _ shape: [Int64],
                       parameters: [String: Inference_InferParameter]) -> Inference_ModelInferRequest.InferInputTensor {
    var input = Inference_ModelInferRequest.InferInputTensor()
    input.name = name
    input.datatype = datatype.rawValue
    input.shape = shape
    input.parameters = parameters
    return input
}

private func grpcOutput(_ name: String, parameters: [String: Inference_InferParameter] = [:]) -> Inference_ModelInferRequest.InferRequestedOutputTensor {
    var output = Inference_ModelInferRequest.InferRequestedOutputTensor()
    output.name = name
    output.parameters = parameters
    return output
}

@Suite("Shared memory")
struct SharedMemoryTests {
    static let sixteenBytes = rawBytes(sixteen)

    // MARK: The mapping type

    @Test func mappingOpensUnalignedRangesAndNamesWhatIsWrong() async throws {
        try await withSharedMemoryObjects(sizes: [10_000]) { objects in
            let object = objects[0]
            let pattern = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
            try object.write(pattern)

            // An offset inside the second page: mmap needs a page-aligned start, the range does not.
            let range = try SharedMemoryMapping.open(key: object.key, offset: 4_101, byteSize: 300)
            #expect(range.objectSize == 10_000)
            #expect(try range.read(count: 300) == Array(pattern[4_101..<4_401]))
            try [UInt8]([1, 2, 3]).withUnsafeBytes { try range.write($0, at: 10) }
            #expect(try object.read(at: 4_111, count: 3) == [1, 2, 3])
            #expect(throws: SharedMemoryError.accessOutsideMapping(key: object.key, offset: 299, count: 2, byteSize: 300)) {
                try range.read(at: 299, count: 2)
            }
            range.close()
            #expect(!range.isOpen)
            #expect(throws: SharedMemoryError.closed(key: object.key)) { try range.read(count: 1) }

            #expect(throws: SharedMemoryError.rangeOutsideObject(key: object.key, offset: 9_000, byteSize: 1_001, objectSize: 10_000)) {
                try SharedMemoryMapping.open(key: object.key, offset: 9_000, byteSize: 1_001)
            }
            let exists = #expect(throws: SharedMemoryError.self) { try SharedMemoryMapping.create(key: object.key, byteSize: 8) }
            #expect(exists == .systemCall(call: "shm_open", key: object.key, errno: EEXIST))
            #expect(exists?.description.contains("File exists") == true)

            let missingKey = TestSharedMemoryObject.uniqueKey()
            let missing = #expect(throws: SharedMemoryError.self) { try SharedMemoryMapping.open(key: missingKey, byteSize: 8) }
            #expect(missing?.isMissingObject == true)
            #expect(missing?.description.contains(missingKey) == true)
            #expect(throws: SharedMemoryError.systemCall(call: "shm_unlink", key: missingKey, errno: ENOENT)) {
                try SharedMemoryMapping.unlink(key: missingKey)
            }
        }
    }

    // MARK: Register, status, unregister

    @Test func httpRegisterStatusAndUnregister() async throws {
        try await withSharedMemoryObjects(sizes: [4096, 64]) { objects in
            try await withSimulator { client in
                #expect(try await client.regionStatus() == [])
                try await client.registerOrFail("b_region", key: objects[0].key, offset: 100, byteSize: 200)
                try await client.registerOrFail("a_region", key: objects[1].key, byteSize: 64)
                let both = [RegionStatus(name: "a_region", key: objects[1].key, offset: 0, byte_size: 64),
                            RegionStatus(name: "b_region", key: objects[0].key, offset: 100, byte_size: 200)]
                #expect(try await client.regionStatus() == both)
                #expect(try await client.regionStatus("b_region") == [both[1]])

                let duplicate = try await client.register("a_region", key: objects[0].key, byteSize: 8)
                #expect(duplicate.status == .badRequest)
                #expect(duplicate.errorMessage == "shared memory region 'a_region' already in manager")

                let missingKey = TestSharedMemoryObject.uniqueKey()
                let missing = try await client.register("c_region", key: missingKey, byteSize: 8)
                #expect(missing.status == .badRequest)
                #expect(missing.errorMessage?.hasPrefix("Unable to open shared memory region: '\(missingKey)'") == true)
                #expect(missing.errorMessage?.contains("No such file or directory") == true)

                let tooLarge = try await client.register("c_region", key: objects[1].key, offset: 8, byteSize: 64)
                #expect(tooLarge.status == .badRequest)
                #expect(tooLarge.errorMessage == "failed to register shared memory region 'c_region': invalid args: offset 8 + byte size 64 = 72 exceeds the 64 bytes of shared memory object '\(objects[1].key)'")

                let noSize = try await client.post("/v2/systemsharedmemory/region/c_region/register", json: #"{"key":"\#(objects[1].key)"}"#)
                #expect(noSize.status == .badRequest)
                #expect(noSize.errorMessage == "failed to register shared memory region 'c_region': 'byte_size' must be a non-negative integer")

                let unknown = try await client.get("/v2/systemsharedmemory/region/c_region/status")
                #expect(unknown.status == .badRequest)
                #expect(unknown.errorMessage == "Unable to find system shared memory region: 'c_region'")
                #expect(try await client.get("/v2/systemsharedmemory/region/a_region/register").status == .methodNotAllowed)

                let one = try await client.post("/v2/systemsharedmemory/region/a_region/unregister", json: "")
                #expect(one.status == .ok)
                #expect(try await client.regionStatus() == [both[1]])
                // Unregistering a name that is not registered is no error, as with Triton.
                #expect(try await client.post("/v2/systemsharedmemory/region/a_region/unregister", json: "").status == .ok)
                #expect(try await client.post("/v2/systemsharedmemory/unregister", json: "").status == .ok)
                #expect(try await client.regionStatus() == [])

                let metadata = try await client.get("/v2").decode(ServerMetadata.self)
                #expect(metadata.extensions.contains("system_shared_memory"))
            }
        }
    }

    @Test func grpcRegisterStatusUnregisterAndBothProtocolsSeeOneRegistry() async throws {
        try await withSharedMemoryObjects(sizes: [256, 128]) { objects in
            try await withGRPCSimulator { context in
                var register = Inference_SystemSharedMemoryRegisterRequest()
                register.name = "over_grpc"
                register.key = objects[0].key
                register.offset = 16
                register.byteSize = 64
                _ = try await context.grpc.systemSharedMemoryRegister(register)
                try await context.http.registerOrFail("over_http", key: objects[1].key, byteSize: 128)

                // Each protocol sees the region the other registered.
                #expect(try await context.http.regionStatus("over_grpc") == [RegionStatus(name: "over_grpc", key: objects[0].key, offset: 16, byte_size: 64)])
                var all = Inference_SystemSharedMemoryStatusRequest()
                let status = try await context.grpc.systemSharedMemoryStatus(all)
                #expect(status.regions.keys.sorted() == ["over_grpc", "over_http"])
                #expect(status.regions["over_http"]?.key == objects[1].key)
                #expect(status.regions["over_http"]?.byteSize == 128)
                #expect(status.regions["over_grpc"]?.offset == 16)
                all.name = "over_http"
                #expect(try await context.grpc.systemSharedMemoryStatus(all).regions.keys.sorted() == ["over_http"])

                // Refusals carry the status code Triton gives them.
                let duplicate = await #expect(throws: RPCError.self) { try await context.grpc.systemSharedMemoryRegister(register) }
                #expect(duplicate?.code == .alreadyExists)
                #expect(duplicate?.message == "shared memory region 'over_grpc' already in manager")
                var missing = register
                missing.name = "missing"
                missing.key = TestSharedMemoryObject.uniqueKey()
                let unopened = await #expect(throws: RPCError.self) { try await context.grpc.systemSharedMemoryRegister(missing) }
                #expect(unopened?.code == .internalError)
                #expect(unopened?.message.hasPrefix("Unable to open shared memory region: '\(missing.key)'") == true)
                var outside = register
                outside.name = "outside"
                outside.offset = 200
                let tooLarge = await #expect(throws: RPCError.self) { try await context.grpc.systemSharedMemoryRegister(outside) }
                #expect(tooLarge?.code == .invalidArgument)
                #expect(tooLarge?.message.contains("offset 200 + byte size 64 = 264 exceeds the 256 bytes") == true)
                var unnamed = register
                unnamed.name = ""
                let noName = await #expect(throws: RPCError.self) { try await context.grpc.systemSharedMemoryRegister(unnamed) }
                #expect(noName?.code == .invalidArgument)
                var unknown = Inference_SystemSharedMemoryStatusRequest()
                unknown.name = "outside"
                let notFound = await #expect(throws: RPCError.self) { try await context.grpc.systemSharedMemoryStatus(unknown) }
                #expect(notFound?.code == .notFound)

                var one = Inference_SystemSharedMemoryUnregisterRequest()
                one.name = "over_http"
                _ = try await context.grpc.systemSharedMemoryUnregister(one)
                #expect(try await context.http.regionStatus().map(\.name) == ["over_grpc"])
                _ = try await context.grpc.systemSharedMemoryUnregister(Inference_SystemSharedMemoryUnregisterRequest())
                #expect(try await context.http.regionStatus() == [])
            }
        }
    }

    @Test func cudaSharedMemoryIsRefusedButUnregisteringItSucceeds() async throws {
        try await withGRPCSimulator { context in
            let register = try await context.http.post("/v2/cudasharedmemory/region/gpu/register",
                                                         json: #"{"raw_handle":{"b64":"AA=="},"device_id":0,"byte_size":8}"#)
            #expect(register.status == .badRequest)
            #expect(register.errorMessage?.contains("kserve-sim has no CUDA shared memory") == true)
            #expect(try await context.http.get("/v2/cudasharedmemory/status").text == "[]")
            #expect(try await context.http.get("/v2/cudasharedmemory/region/gpu/status").status == .badRequest)
            #expect(try await context.http.post("/v2/cudasharedmemory/unregister", json: "").status == .ok)

            var grpcRegister = Inference_CudaSharedMemoryRegisterRequest()
            grpcRegister.name = "gpu"
            let refused = await #expect(throws: RPCError.self) { try await context.grpc.cudaSharedMemoryRegister(grpcRegister) }
            #expect(refused?.code == .failedPrecondition)
            #expect(refused?.message.contains("kserve-sim has no CUDA shared memory") == true)
            #expect(try await context.grpc.cudaSharedMemoryStatus(Inference_CudaSharedMemoryStatusRequest()).regions.isEmpty)
            _ = try await context.grpc.cudaSharedMemoryUnregister(Inference_CudaSharedMemoryUnregisterRequest())
        }
    }

    // MARK: Inference over HTTP

    @Test func httpInferenceReadsInputsFromRegionsAndWritesOutputsToThem() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kserve-sim-shm-record-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lhs: [Int32] = [1, 2, Int32.max, -40]
        let rhs: [Int32] = [10, 20, 1, 2]
        try await withSharedMemoryObjects(sizes: [8192, 64]) { objects in
            let (input, output) = (objects[0], objects[1])
            // The region starts at an unaligned offset of the object; INPUT1 at 16 bytes into the region.
            try input.write(rawBytes(lhs) + rawBytes(rhs), at: 4_100)
            try output.write([UInt8](repeating: 0xEE, count: 64))
            try await withSimulator(recordPath: path) { client in
                try await client.registerOrFail("input_region", key: input.key, offset: 4_100, byteSize: 32)
                try await client.registerOrFail("output_region", key: output.key, byteSize: 64)
                let request = sharedInputRequest(
                    model: "add_sub",
                    inputs: [("INPUT0", .int32, [1, 4], sharedMemoryParameters("input_region", byteSize: 16)),
                             ("INPUT1", .int32, [1, 4], sharedMemoryParameters("input_region", byteSize: 16, offset: 16))],
                    outputs: [.init(name: "OUTPUT0", parameters: sharedMemoryParameters("output_region", byteSize: 32, offset: 8)),
                              .init(name: "OUTPUT1")])
                let response = try await client.send(request)
                #expect(response.status == .ok, "\(response.text)")
                let decoded = try response.inferResponse()
                let sum = try #require(decoded.output("OUTPUT0"))
                #expect(sum.data == nil)
                #expect(sum.shape == [1, 4])
                #expect(sum.datatype == "INT32")
                #expect(sum.parameters == nil)
                #expect(decoded.binaryOutputs.isEmpty)
                #expect(try decoded.int32Values("OUTPUT1") == zip(lhs, rhs).map { Int64($0 &- $1) })
                // The sum landed at offset 8 of the output region; the bytes around it are untouched.
                #expect(try output.read(at: 8, count: 16) == rawBytes(zip(lhs, rhs).map { $0 &+ $1 }))
                #expect(try output.read(count: 8) == [UInt8](repeating: 0xEE, count: 8))
                #expect(try output.read(at: 24, count: 8) == [UInt8](repeating: 0xEE, count: 8))
            }
            let lines = try RecordedSharedInputs.read(path)
            #expect(lines.count == 1)
            #expect(lines.first?.inputs.map(\.name) == ["INPUT0", "INPUT1"])
            #expect(lines.first?.inputs.map(\.shared_memory_region) == ["input_region", "input_region"])
            #expect(lines.first?.inputs.first?.data == lhs.map { .int(Int64($0)) })
            #expect(lines.first?.inputs.last?.data == rhs.map { .int(Int64($0)) })
        }
    }

    @Test func httpBytesTensorsInAndOutOfRegions() async throws {
        let strings = ["alpha", "", "γ\"quoted\"", "a longer element than the others"]
        let serialized = rawBytes(strings: strings)
        try await withSharedMemoryObjects(sizes: [serialized.count, 256]) { objects in
            try objects[0].write(serialized)
            try await withSimulator { client in
                try await client.registerOrFail("strings_in", key: objects[0].key, byteSize: serialized.count)
                try await client.registerOrFail("strings_out", key: objects[1].key, byteSize: 256)
                let request = sharedInputRequest(
                    model: "identity_bytes",
                    inputs: [("INPUT0", .bytes, [4], sharedMemoryParameters("strings_in", byteSize: serialized.count))],
                    outputs: [.init(name: "OUTPUT0", parameters: sharedMemoryParameters("strings_out", byteSize: 256))])
                let response = try await client.send(request)
                #expect(response.status == .ok, "\(response.text)")
                let output = try #require(try response.inferResponse().output("OUTPUT0"))
                // As with Triton over HTTP, the output says only its shape; the region holds the elements.
                #expect(output.parameters == nil)
                #expect(output.shape == [4])
                #expect(try objects[1].read(count: serialized.count) == serialized)

                // The same bytes read as three elements do not match a shape of four.
                let wrongCount = sharedInputRequest(
                    model: "identity_bytes",
                    inputs: [("INPUT0", .bytes, [3], sharedMemoryParameters("strings_in", byteSize: serialized.count))])
                let refused = try await client.send(wrongCount)
                #expect(refused.status == .badRequest)
                #expect(refused.errorMessage == "expected 3 string elements for inference input 'INPUT0' for model 'identity_bytes', got 4")
            }
        }
    }

    @Test func httpSharedMemoryErrorsNameTensorRegionAndSizes() async throws {
        try await withSharedMemoryObjects(sizes: [64, 32]) { objects in
            try await withSimulator { client in
                try await client.registerOrFail("big", key: objects[0].key, byteSize: 64)
                try await client.registerOrFail("small", key: objects[1].key, byteSize: 32)
                func refusal(_ request: TestRequest) async throws -> String? {
                    let response = try await client.send(request)
                    #expect(response.status == .badRequest)
                    return response.errorMessage
                }
                func identity(input: [String: JSONValue], output: [String: JSONValue]? = nil) -> TestRequest {
                    sharedInputRequest(model: "identity_fp32", inputs: [("INPUT0", .fp32, [1, 16], input)],
                                       outputs: output.map { [.init(name: "OUTPUT0", parameters: $0)] })
                }

                #expect(try await refusal(identity(input: sharedMemoryParameters("nope", byteSize: 64)))
                        == "Unable to find shared memory region: 'nope' (named by input 'INPUT0' for model 'identity_fp32')")
                #expect(try await refusal(identity(input: sharedMemoryParameters("small", byteSize: 64)))
                        == "Invalid offset + byte size for shared memory region: 'small': input 'INPUT0' for model 'identity_fp32' asks for 64 bytes at offset 0, but the region has 32 bytes")
                #expect(try await refusal(identity(input: sharedMemoryParameters("big", byteSize: 60, offset: 4)))
                        == "input byte size mismatch for input 'INPUT0' for model 'identity_fp32'. Expected 64, got 60 (shared_memory_byte_size for region 'big')")
                #expect(try await refusal(identity(input: ["shared_memory_region": .string("big")]))
                        == "'shared_memory_byte_size' must be specified along with 'shared_memory_region' parameter for tensor 'INPUT0'")
                #expect(try await refusal(identity(input: ["shared_memory_byte_size": .int(64)]))
                        == "'shared_memory_byte_size' can not be specified without 'shared_memory_region' parameter for tensor 'INPUT0'")
                #expect(try await refusal(identity(input: sharedMemoryParameters("big", byteSize: 64),
                                                   output: sharedMemoryParameters("nope", byteSize: 64)))
                        == "Unable to find shared memory region: 'nope' (named by output 'OUTPUT0' for model 'identity_fp32')")

                // An output larger than the room the request gives it fails after compute, and counts as a failure.
                let before = try await client.statistics("identity_fp32")
                try objects[0].write(Self.sixteenBytes)
                #expect(try await refusal(identity(input: sharedMemoryParameters("big", byteSize: 64),
                                                   output: sharedMemoryParameters("small", byteSize: 32)))
                        == "shared memory size specified with the request for output 'OUTPUT0' (32 bytes) should be at least 64 bytes to hold the results")
                let after = try await client.statistics("identity_fp32")
                #expect(after.inference_stats.fail.count.value == before.inference_stats.fail.count.value + 1)
                #expect(after.inference_stats.success.count.value == before.inference_stats.success.count.value)
            }
        }
    }

    // MARK: Inference over gRPC

    @Test func grpcUnaryMixesRawAndSharedInputsAndKeepsRawOutputsAligned() async throws {
        let lhs: [Int32] = [5, 6, 7, 8]
        let rhs: [Int32] = [1, 1, 2, 3]
        try await withSharedMemoryObjects(sizes: [16, 16]) { objects in
            try objects[0].write(rawBytes(lhs))
            try await withGRPCSimulator { context in
                try await context.http.registerOrFail("lhs", key: objects[0].key, byteSize: 16)
                var register = Inference_SystemSharedMemoryRegisterRequest()
                register.name = "sums"
                register.key = objects[1].key
                register.byteSize = 16
                _ = try await context.grpc.systemSharedMemoryRegister(register)

                var request = Inference_ModelInferRequest()
                request.modelName = "add_sub"
                request.inputs = [grpcInput("INPUT0", .int32, [1, 4], parameters: grpcSharedMemoryParameters("lhs", byteSize: 16)),
                                  grpcInput("INPUT1", .int32, [1, 4], parameters: [:])]
                // One raw entry: for the one input that is not in shared memory.
                request.rawInputContents = [Data(rawBytes(rhs))]
                request.outputs = [grpcOutput("OUTPUT0", parameters: grpcSharedMemoryParameters("sums", byteSize: 16)),
                                   grpcOutput("OUTPUT1")]
                let response = try await context.grpc.modelInfer(request)
                #expect(response.outputs.map(\.name) == ["OUTPUT0", "OUTPUT1"])
                #expect(response.rawOutputContents.count == 2)
                #expect(response.rawOutputContents.first?.isEmpty == true)
                #expect(response.outputs.first?.parameters.isEmpty == true)
                #expect(response.outputs.first?.shape == [1, 4])
                #expect(response.int32s("OUTPUT1") == zip(lhs, rhs).map { $0 &- $1 })
                #expect(try objects[1].read(count: 16) == rawBytes(zip(lhs, rhs).map { $0 &+ $1 }))

                // A raw entry for the shared-memory input too is one too many.
                var extra = request
                extra.rawInputContents.append(Data(rawBytes(rhs)))
                let refused = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(extra) }
                #expect(refused?.code == .invalidArgument)
                #expect(refused?.message.contains("expected tensor data for 1 inputs but got 2 sets of data") == true)
            }
        }
    }

    @Test func grpcBytesAndErrorsThroughRegions() async throws {
        let strings = ["x", "", "yz"]
        let serialized = rawBytes(strings: strings)
        try await withSharedMemoryObjects(sizes: [serialized.count, 64, 8]) { objects in
            try objects[0].write(serialized)
            try await withGRPCSimulator { context in
                try await context.http.registerOrFail("in", key: objects[0].key, byteSize: serialized.count)
                try await context.http.registerOrFail("out", key: objects[1].key, byteSize: 64)
                try await context.http.registerOrFail("tiny", key: objects[2].key, byteSize: 8)
                var request = Inference_ModelInferRequest()
                request.modelName = "identity_bytes"
                request.inputs = [grpcInput("INPUT0", .bytes, [3], parameters: grpcSharedMemoryParameters("in", byteSize: serialized.count))]
                request.outputs = [grpcOutput("OUTPUT0", parameters: grpcSharedMemoryParameters("out", byteSize: 60, offset: 4))]
                let response = try await context.grpc.modelInfer(request)
                #expect(response.outputs.first?.parameters.isEmpty == true)
                #expect(response.outputs.first?.shape == [3])
                #expect(try objects[1].read(at: 4, count: serialized.count) == serialized)

                var tooSmall = request
                tooSmall.outputs = [grpcOutput("OUTPUT0", parameters: grpcSharedMemoryParameters("tiny", byteSize: 8))]
                let outputRefused = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(tooSmall) }
                #expect(outputRefused?.code == .invalidArgument)
                #expect(outputRefused?.message == "shared memory size specified with the request for output 'OUTPUT0' (8 bytes) should be at least \(serialized.count) bytes to hold the results")

                var unknown = request
                unknown.inputs = [grpcInput("INPUT0", .bytes, [3], parameters: grpcSharedMemoryParameters("gone", byteSize: 4))]
                let inputRefused = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(unknown) }
                #expect(inputRefused?.code == .invalidArgument)
                #expect(inputRefused?.message.hasPrefix("Unable to find shared memory region: 'gone'") == true)

                var withContents = request
                withContents.inputs[0].contents.bytesContents = [Data("x".utf8)]
                let both = await #expect(throws: RPCError.self) { try await context.grpc.modelInfer(withContents) }
                #expect(both?.message == "unexpected 'content' provided when using shared memory for input tensor 'INPUT0' for model 'identity_bytes'")
            }
        }
    }

    @Test func grpcStreamWritesEachDecoupledResponseToTheRegionAndReportsErrors() async throws {
        try await withSharedMemoryObjects(sizes: [4, 4]) { objects in
            try objects[0].write(rawBytes([Int32(3)]))
            try await withGRPCSimulator { context in
                try await context.http.registerOrFail("count", key: objects[0].key, byteSize: 4)
                try await context.http.registerOrFail("echo", key: objects[1].key, byteSize: 4)
                var request = Inference_ModelInferRequest()
                request.modelName = "repeat_decoupled"
                request.id = "shm-stream"
                request.inputs = [grpcInput("IN", .int32, [1], parameters: grpcSharedMemoryParameters("count", byteSize: 4))]
                request.outputs = [grpcOutput("OUT", parameters: grpcSharedMemoryParameters("echo", byteSize: 4)), grpcOutput("IDX")]
                var unknownRegion = request
                unknownRegion.id = "missing-region"
                unknownRegion.inputs = [grpcInput("IN", .int32, [1], parameters: grpcSharedMemoryParameters("nowhere", byteSize: 4))]
                let (sent, missing) = (request, unknownRegion)
                let responses = try await context.grpc.withStream { stream in
                    stream.send(sent)
                    stream.send(missing)
                    return try await stream.next(4)
                }
                let answers = responses.prefix(3).map(\.inferResponse)
                #expect(answers.map(\.id) == ["shm-stream", "shm-stream", "shm-stream"])
                #expect(answers.map { $0.int32s("IDX") } == [[0], [1], [2]])
                #expect(answers.allSatisfy { $0.outputs.first?.parameters.isEmpty == true })
                #expect(answers.allSatisfy { $0.rawOutputContents.first?.isEmpty == true })
                #expect(try objects[1].read(count: 4) == rawBytes([Int32(3)]))
                #expect(responses.last?.inferResponse.id == "missing-region")
                #expect(responses.last?.errorMessage.hasPrefix("Unable to find shared memory region: 'nowhere'") == true)
            }
        }
    }

    // MARK: Region lifetime and routing

    @Test func aRequestKeepsItsRegionMappedAfterUnregisterAndShutdownUnmapsEverything() async throws {
        try await withSharedMemoryObjects(sizes: [64]) { objects in
            let registry = SharedMemoryRegistry()
            try registry.register(name: "held", key: objects[0].key, offset: 0, byteSize: 64)
            let span = try SharedMemoryReference(region: "held", offset: 8, byteSize: 16)
                .resolve(in: registry, role: "output", tensor: "OUT", model: "m")
            registry.unregister(name: "held")
            #expect(registry.region(named: "held") == nil)
            // Still mapped for the request that resolved it.
            try span.write(ByteBuffer(bytes: [9, 8, 7]), tensor: "OUT")
            #expect(try objects[0].read(at: 8, count: 3) == [9, 8, 7])

            try registry.register(name: "held", key: objects[0].key, offset: 0, byteSize: 64)
            let open = try SharedMemoryReference(region: "held", offset: 0, byteSize: 4)
                .resolve(in: registry, role: "input", tensor: "IN", model: "m")
            registry.closeAll()
            #expect(throws: InferError.self) { try open.read(role: "input", tensor: "IN") }
            #expect(!open.mapping.isOpen)
        }
    }

    @Test func sharedMemoryRoutesParse() {
        #expect(Route(path: "/v2/systemsharedmemory/status") == .sharedMemory(kind: .system, region: nil, action: .status))
        #expect(Route(path: "/v2/systemsharedmemory/unregister") == .sharedMemory(kind: .system, region: nil, action: .unregister))
        #expect(Route(path: "/v2/systemsharedmemory/region/r1/register") == .sharedMemory(kind: .system, region: "r1", action: .register))
        #expect(Route(path: "/v2/systemsharedmemory/region/r1/status") == .sharedMemory(kind: .system, region: "r1", action: .status))
        #expect(Route(path: "/v2/cudasharedmemory/region/g/unregister") == .sharedMemory(kind: .cuda, region: "g", action: .unregister))
        #expect(Route(path: "/v2/systemsharedmemory/register") == .notFound)
        #expect(Route(path: "/v2/systemsharedmemory/region//status") == .notFound)
        #expect(Route(path: "/v2/systemsharedmemory/region/r1/delete") == .notFound)
        #expect(Route(path: "/v2/systemsharedmemory/region/r1/register").isPost)
        #expect(!Route(path: "/v2/systemsharedmemory/status").isPost)
    }
}
