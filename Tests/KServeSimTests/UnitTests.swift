import KServeProtocol
import NIOCore
import Testing
@testable import KServeSim

@Suite("Routing and plan cache")
struct UnitTests {
    @Test func routesParseLikeTriton() {
        #expect(Route(path: "/v2") == .serverMetadata)
        #expect(Route(path: "/v2/health/live") == .healthLive)
        #expect(Route(path: "/v2/health/ready?x=1") == .healthReady)
        #expect(Route(path: "/v2/models/stats") == .allStatistics)
        #expect(Route(path: "/v2/models/m") == .model(name: "m", version: nil, action: .metadata))
        #expect(Route(path: "/v2/models/m/versions/1/infer") == .model(name: "m", version: "1", action: .infer))
        #expect(Route(path: "/v2/models/m/stats") == .model(name: "m", version: nil, action: .statistics))
        #expect(Route(path: "/v2/models/m/versions/2/config") == .model(name: "m", version: "2", action: .config))
        #expect(Route(path: "/v2/models/m/versions//ready") == .notFound)
        // /v1 belongs to the OpenAI side, which answers its own 404s.
        #expect(Route(path: "/v1/models/m") == .openAI(.unknown))
        #expect(Route(path: "/v1/models") == .openAI(.models))
        #expect(Route(path: "/v1/chat/completions?x=1") == .openAI(.chatCompletions))
        #expect(Route(path: "/v1/completions/") == .openAI(.completions))
        #expect(Route(path: "/v1/embeddings") == .openAI(.embeddings))
        #expect(Route(path: "/v1/sim/statistics") == .openAI(.statistics))
        #expect(Route(path: "/v3/models") == .notFound)
        #expect(Route(path: "v2") == .notFound)
        #expect(Route(path: "/v2/models/m/infer/extra") == .notFound)
    }

    @Test func planCacheReusesPlansForIdenticalHeaderBytes() throws {
        let catalog = ModelCatalog.standard()
        let index = try #require(catalog.index(of: "identity_fp32"))
        let header = ByteBuffer(string: #"{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}}]}"#)
        let cache = PlanCache(capacity: 2)
        var builds = 0
        func plan(_ bytes: ByteBuffer) throws -> InferPlan {
            try cache.plan(model: index, header: bytes, hasBinaryBody: true) { () throws(InferError) in
                builds += 1
                return try PlanBuilder.build(model: catalog[index], modelIndex: index, header: bytes, hasBinaryBody: true)
            }
        }
        let first = try plan(header)
        // Same bytes in a different buffer (as a new request would bring them).
        let again = try plan(ByteBuffer(string: String(buffer: header)))
        #expect(first === again)
        #expect(builds == 1)
        #expect(first.batchSize == 1)
        #expect(first.binaryByteCount == 64)

        // Different bytes build a new plan; the cache stays within its capacity.
        for id in ["a", "b", "c"] {
            _ = try plan(ByteBuffer(string: #"{"id":"\#(id)","inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}}]}"#))
        }
        #expect(builds == 4)
        #expect(cache.count <= 2)
    }

    @Test func catalogRejectsEnsemblesOfUnknownModels() {
        let broken = ModelDefinition(
            name: "e", platform: "ensemble", maxBatchSize: 0, inputs: [], outputs: [],
            behavior: .ensemble([EnsembleStepDefinition(modelName: "missing", inputMap: [:], outputMap: [:])]))
        #expect(throws: InferError.self) { try ModelCatalog([broken]) }
    }

    @Test func scannerReadsJSONFaithfully() throws {
        let text = #"{"a":[1,-2,3.5,1e3,18446744073709551615,true,false,null],"s":"q\"\\\/\n\u00e9\ud83d\ude00","o":{}}"#
        let value = try JSONScanner.parse(Array(text.utf8))
        #expect(value["a"] == .array([.int(1), .int(-2), .double(3.5), .double(1000), .uint(UInt64.max), .bool(true), .bool(false), .null]))
        #expect(value["s"] == .string("q\"\\/\né😀"))
        #expect(value["o"] == .object([:]))
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "[1] 2", "tru", "\"a\u{01}\""] {
            #expect(throws: JSONScanner.SyntaxError.self, "\(bad)") { try JSONScanner.parse(Array(bad.utf8)) }
        }
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: JSONScanner.SyntaxError.self) { try JSONScanner.parse(Array(deep.utf8)) }
    }

    @Test func headerReaderNamesTheBadField() throws {
        let good = try RequestHeaderReader.read(Array(#"{"id":"x","inputs":[{"name":"I","shape":[2,3],"datatype":"FOO","data":[1]}],"outputs":[{"name":"O"}]}"#.utf8))
        #expect(good.id == "x")
        #expect(good.inputs.first?.datatype == "FOO")
        #expect(good.inputs.first?.shape == [2, 3])
        #expect(good.outputs?.first?.name == "O")
        #expect(throws: InferError("inputs[0].shape must hold integers")) {
            try RequestHeaderReader.read(Array(#"{"inputs":[{"name":"I","shape":[1.5],"datatype":"FP32"}]}"#.utf8))
        }
        #expect(throws: InferError("the request has no 'inputs' array")) { try RequestHeaderReader.read(Array("{}".utf8)) }
        #expect(throws: InferError("id must be a string")) { try RequestHeaderReader.read(Array(#"{"id":3,"inputs":[]}"#.utf8)) }
    }
}
