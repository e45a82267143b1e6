import KServeProtocol
import KServeSim
import NIOCore
import NIOHTTP1
import Testing

@Suite("Request validation")
struct ErrorTests {
    /// Sends `request` and returns the error message of the 400 it must get.
    static func rejection(_ client: TestClient, _ model: String, _ request: InferRequest) async throws -> String? {
        let response = try await client.infer(model, request)
        #expect(response.status == .badRequest)
        #expect(response.headers.first(name: "content-type") == "application/json")
        return response.errorMessage
    }

    @Test func shapeMismatchNamesTheInput() async throws {
        try await withSimulator { client in
            let message = try await Self.rejection(client, "identity_fp32", InferRequest(
                binaryInputs: [("INPUT0", .fp32, [1, 15], rawBytes(Array(sixteen.prefix(15))))]))
            #expect(message == "unexpected shape for input 'INPUT0' for model 'identity_fp32'. Expected [-1,16], got [1,15]")

            let rank = try await Self.rejection(client, "identity_fp32", InferRequest(
                binaryInputs: [("INPUT0", .fp32, [16], rawBytes(sixteen))]))
            #expect(rank == "unexpected shape for input 'INPUT0' for model 'identity_fp32'. Expected [-1,16], got [16]")

            let dynamic = try await Self.rejection(client, "identity_int32_dynamic", InferRequest(
                binaryInputs: [("INPUT0", .int32, [4], rawBytes([Int32](repeating: 1, count: 4)))]))
            #expect(dynamic == "unexpected shape for input 'INPUT0' for model 'identity_int32_dynamic'. Expected [-1,-1], got [4]")
        }
    }

    @Test func unknownModelVersionInputAndOutput() async throws {
        try await withSimulator { client in
            let request = InferRequest(binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])
            let unknown = try await client.infer("no_such_model", request)
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorMessage == "Request for unknown model: 'no_such_model' is not found")

            var versioned = request.httpRequest(model: "identity_fp32")
            versioned.path = "/v2/models/identity_fp32/versions/3/infer"
            #expect(try await client.send(versioned).errorMessage == "Request for unknown model: 'identity_fp32' version 3 is not found")
            versioned.path = "/v2/models/identity_fp32/versions/1/infer"
            #expect(try await client.send(versioned).status == .ok)

            let strayInput = try await Self.rejection(client, "identity_fp32", InferRequest(
                binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen)), ("EXTRA", .fp32, [1, 16], rawBytes(sixteen))]))
            #expect(strayInput == "unexpected inference input 'EXTRA' for model 'identity_fp32'")

            let strayOutput = try await Self.rejection(client, "identity_fp32", InferRequest(
                binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))], outputs: [.init(name: "OUTPUT9")]))
            #expect(strayOutput == "unexpected inference output 'OUTPUT9' for model 'identity_fp32'")
        }
    }

    @Test func missingInputWrongTypeBatchAndBytes() async throws {
        try await withSimulator { client in
            let missing = try await Self.rejection(client, "add_sub", InferRequest(
                binaryInputs: [("INPUT0", .int32, [1, 4], rawBytes([Int32](repeating: 1, count: 4)))]))
            #expect(missing?.contains("missing required input(s) ['INPUT1']") == true)

            let wrongType = try await Self.rejection(client, "identity_fp32", InferRequest(
                binaryInputs: [("INPUT0", .int32, [1, 16], rawBytes([Int32](repeating: 1, count: 16)))]))
            #expect(wrongType == "inference input 'INPUT0' data-type is 'INT32', but model 'identity_fp32' expects 'FP32'")

            let tooBig = try await Self.rejection(client, "identity_fp32", InferRequest(
                binaryInputs: [("INPUT0", .fp32, [9, 16], rawBytes([Float](repeating: 1, count: 144)))]))
            #expect(tooBig?.contains("batch-size must be <= 8") == true)

            let mismatchedBatch = try await Self.rejection(client, "add_sub", InferRequest(
                binaryInputs: [("INPUT0", .int32, [1, 4], rawBytes([Int32](repeating: 1, count: 4))),
                               ("INPUT1", .int32, [2, 4], rawBytes([Int32](repeating: 1, count: 8)))]))
            #expect(mismatchedBatch == "input 'INPUT1' batch size does not match other inputs for 'add_sub'")

            // Declared size disagrees with the shape.
            var short = InferRequest(binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(Array(sixteen.prefix(15))))])
            let shortMessage = try await Self.rejection(client, "identity_fp32", short)
            #expect(shortMessage == "input byte size mismatch for input 'INPUT0' for model 'identity_fp32'. Expected 64, got 60")

            // Declared size right, but the body carries fewer bytes.
            short = InferRequest(binaryInputs: [("INPUT0", .fp32, [1, 16], rawBytes(sixteen))])
            short.binary = [Array(rawBytes(sixteen).prefix(60))]
            let truncated = try await Self.rejection(client, "identity_fp32", short)
            #expect(truncated?.contains("declare 64 bytes after the JSON header but the body has 60") == true)

            // BYTES: two elements declared, one sent.
            let strings = try await Self.rejection(client, "identity_bytes", InferRequest(
                binaryInputs: [("INPUT0", .bytes, [2], rawBytes(strings: ["only"]))]))
            #expect(strings == "expected 2 string elements for inference input 'INPUT0' for model 'identity_bytes', got 1")

            let jsonCount = try await Self.rejection(client, "identity_fp32", InferRequest(
                jsonInputs: [("INPUT0", .fp32, [1, 16], .array([.double(1)]))]))
            #expect(jsonCount?.contains("needs 16, got 1") == true)
        }
    }

    @Test func malformedBodies() async throws {
        try await withSimulator { client in
            let garbage = try await client.post("/v2/models/identity_fp32/infer", json: "{not json")
            #expect(garbage.status == .badRequest)
            #expect(garbage.errorMessage?.hasPrefix("failed to parse the request JSON buffer") == true)

            var request = TestRequest(method: .POST, path: "/v2/models/identity_fp32/infer",
                                      headers: [(BinaryTensorHeader.headerContentLength, "999")], body: ByteBuffer(string: "{}"))
            #expect(try await client.send(request).status == .badRequest)
            request.headers = []
            #expect(try await client.send(request).status == .badRequest)
        }
    }
}
