import GRPCCore
import KServeGRPC
import KServeProtocol
import KServeSim
import Testing

@Suite("gRPC health, metadata and config")
struct GRPCMetadataTests {
    @Test func healthAndReadiness() async throws {
        try await withGRPCSimulator { context in
            // (Results are taken before #expect: a `try` inside #expect next to #expect(throws:) does not compile.)
            let live = try await context.grpc.serverLive(Inference_ServerLiveRequest()).live
            #expect(live)
            let serverReady = try await context.grpc.serverReady(Inference_ServerReadyRequest()).ready
            #expect(serverReady)
            var ready = Inference_ModelReadyRequest()
            ready.name = "repeat_decoupled"
            let modelReady = try await context.grpc.modelReady(ready).ready
            #expect(modelReady)
            ready.name = "no_such_model"
            let unknown = ready
            let error = await #expect(throws: RPCError.self) { try await context.grpc.modelReady(unknown) }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("no_such_model") == true)
        }
    }

    @Test func serverMetadataMatchesHTTP() async throws {
        try await withGRPCSimulator { context in
            let metadata = try await context.grpc.serverMetadata(Inference_ServerMetadataRequest())
            let http = try await context.http.get("/v2").decode(ServerMetadata.self)
            #expect(metadata.name == "kserve-sim")
            #expect(metadata.name == http.name)
            #expect(metadata.version == http.version)
            #expect(metadata.extensions == http.extensions)
            #expect(metadata.extensions.contains("statistics"))
        }
    }

    @Test func modelMetadataHasBatchDimension() async throws {
        try await withGRPCSimulator { context in
            var request = Inference_ModelMetadataRequest()
            request.name = "identity_fp32"
            let metadata = try await context.grpc.modelMetadata(request)
            #expect(metadata.name == "identity_fp32")
            #expect(metadata.versions == ["1"])
            #expect(metadata.platform == "kserve-sim")
            #expect(metadata.inputs.map(\.name) == ["INPUT0"])
            #expect(metadata.inputs.first?.datatype == "FP32")
            #expect(metadata.inputs.first?.shape == [-1, 16])
            #expect(metadata.outputs.first?.shape == [-1, 16])

            request.name = "repeat_decoupled"
            let decoupled = try await context.grpc.modelMetadata(request)
            #expect(decoupled.inputs.map(\.name) == ["IN"])
            #expect(decoupled.inputs.first?.shape == [1])
            #expect(decoupled.outputs.map(\.name) == ["OUT", "IDX"])
            #expect(decoupled.outputs.map(\.datatype) == ["INT32", "INT32"])

            request.version = "2"
            let missingVersion = request
            let error = await #expect(throws: RPCError.self) { try await context.grpc.modelMetadata(missingVersion) }
            #expect(error?.code == .notFound)
        }
    }

    @Test func configsDescribeEachKindOfModel() async throws {
        try await withGRPCSimulator { context in
            func config(_ name: String) async throws -> Inference_ModelConfig {
                var request = Inference_ModelConfigRequest()
                request.name = name
                return try await context.grpc.modelConfig(request).config
            }
            let addSub = try await config("add_sub")
            #expect(addSub.name == "add_sub")
            #expect(addSub.backend == "kserve-sim")
            #expect(addSub.maxBatchSize == 8)
            #expect(addSub.input.map(\.name) == ["INPUT0", "INPUT1"])
            #expect(addSub.input.map(\.dataType) == [.typeInt32, .typeInt32])
            #expect(addSub.input.first?.dims == [4])
            #expect(addSub.output.map(\.name) == ["OUTPUT0", "OUTPUT1"])
            #expect(!addSub.modelTransactionPolicy.decoupled)

            #expect(try await config("identity_bytes").input.first?.dataType == .typeString)

            let sequence = try await config("sequence_accumulator")
            #expect(sequence.maxBatchSize == 0)
            let controls = sequence.sequenceBatching.controlInput
            #expect(controls.map(\.name) == ["START", "END", "CORRID"])
            #expect(controls.map { $0.control.first?.kind } == [.controlSequenceStart, .controlSequenceEnd, .controlSequenceCorrid])
            #expect(controls.last?.control.first?.dataType == .typeUint64)

            let ensemble = try await config("ensemble_fp32")
            #expect(ensemble.platform == "ensemble")
            #expect(ensemble.ensembleScheduling.step.map(\.modelName) == ["identity_fp32", "double_fp32"])
            #expect(ensemble.ensembleScheduling.step.first?.outputMap == ["OUTPUT0": "identity_out"])
            #expect(ensemble.ensembleScheduling.step.last?.inputMap == ["INPUT0": "identity_out"])

            let decoupled = try await config("repeat_decoupled")
            #expect(decoupled.modelTransactionPolicy.decoupled)
            #expect(decoupled.maxBatchSize == 0)
            #expect(decoupled.output.map(\.dims) == [[1], [1]])

            // The HTTP config says the same about the decoupled model.
            let http = try await context.http.get("/v2/models/repeat_decoupled/config").decode(ModelConfig.self)
            #expect(http.model_transaction_policy?.decoupled == true)
        }
    }

    @Test func rpcsWithoutAnHTTPCounterpartAreUnimplemented() async throws {
        try await withGRPCSimulator { context in
            let error = await #expect(throws: RPCError.self) {
                try await context.grpc.repositoryIndex(Inference_RepositoryIndexRequest())
            }
            #expect(error?.code == .unimplemented)
        }
    }
}
