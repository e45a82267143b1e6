import Foundation
import GRPCCore
import KServeGRPC
import KServeProtocol
import KServeSim
import Testing

@Suite("gRPC recording")
struct GRPCRecordTests {

    @Test func unaryAndStreamedRequestsAreRecordedLikeHTTPOnes() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kserve-sim-grpc-record-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withGRPCSimulator(recordPath: path) { context in
            let unary = Inference_ModelInferRequest.raw(
                model: "sequence_accumulator", id: "u1",
                parameters: ["sequence_id": int64Parameter(42), "sequence_start": boolParameter(true)],
                inputs: [("INPUT", .int32, [1], rawBytes([Int32(-5)]))])
            _ = try await context.grpc.modelInfer(unary, metadata: ["x-test-header": "unary-value"])
            _ = try await context.grpc.withStream(metadata: ["X-Stream-Header": "streamed"]) { stream in
                stream.send(.repeatDecoupled(2, id: "s1", finalResponse: true))
                stream.send(.raw(model: "identity_bytes", id: "s2", inputs: [("INPUT0", .bytes, [2], rawBytes(strings: ["a", "bc"]))]))
                return try await stream.next(4).count
            }
            // The same request over HTTP, for the format comparison below.
            let http = try await context.http.infer("identity_bytes", InferRequest(
                id: "h1", binaryInputs: [("INPUT0", .bytes, [2], rawBytes(strings: ["a", "bc"]))]))
            #expect(http.status == .ok)
        }
        let lines = try RecordedLine.read(path)
        #expect(lines.map(\.model) == ["sequence_accumulator", "repeat_decoupled", "identity_bytes", "identity_bytes"])
        #expect(lines.map(\.id) == ["u1", "s1", "s2", "h1"])

        let first = try #require(lines.first)
        #expect(first.parameters["sequence_id"] == .int(42))
        #expect(first.parameters["sequence_start"] == .bool(true))
        #expect(first.inputs.map(\.name) == ["INPUT"])
        #expect(first.inputs.first?.datatype == "INT32")
        #expect(first.inputs.first?.shape == [1])
        #expect(first.inputs.first?.data == [.int(-5)])
        #expect(first.headers["x-test-header"] == "unary-value")
        // Transport headers every gRPC call carries are left out.
        for name in first.headers.keys {
            #expect(!name.hasPrefix(":") && !name.hasPrefix("grpc-") && name != "te" && name != "content-type", "\(name)")
        }

        #expect(lines[1].parameters["triton_enable_empty_final_response"] == .bool(true))
        #expect(lines[1].inputs.first?.data == [.int(2)])
        #expect(lines[1].headers["x-stream-header"] == "streamed")
        #expect(lines[2].headers["x-stream-header"] == "streamed")
        // A gRPC line and an HTTP line for the same tensor hold the same inputs.
        #expect(lines[2].inputs.first?.data == lines[3].inputs.first?.data)
        #expect(lines[2].inputs.first?.data == [.string("a"), .string("bc")])
    }
}
