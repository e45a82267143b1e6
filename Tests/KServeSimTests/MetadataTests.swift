import KServeProtocol
import KServeSim
import NIOHTTP1
import Testing

@Suite("Server and model metadata")
struct MetadataTests {
    @Test func serverMetadataHealthAndUnknownRoutes() async throws {
        try await withSimulator { client in
            let server = try await client.get("/v2")
            #expect(server.status == .ok)
            let metadata = try server.decode(ServerMetadata.self)
            #expect(metadata.name == "kserve-sim")
            #expect(metadata.version == "0.1.0")
            #expect(metadata.extensions == ["binary_tensor_data", "statistics", "model_configuration", "sequence", "system_shared_memory"])

            #expect(try await client.get("/v2/health/live").status == .ok)
            let ready = try await client.get("/v2/health/ready")
            #expect(ready.status == .ok)
            #expect(ready.body.readableBytes == 0)

            let missing = try await client.get("/v2/nothing/here")
            #expect(missing.status == .notFound)
            #expect(missing.errorMessage != nil)
            #expect(try await client.get("/v2/models/identity_fp32/bogus").status == .notFound)
            #expect(try await client.send(TestRequest(method: .POST, path: "/v2/models/identity_fp32")).status == .methodNotAllowed)
        }
    }

    @Test(arguments: [
        ("identity_fp32", "FP32", [Int64(-1), 16], "kserve-sim"),
        ("identity_int32_dynamic", "INT32", [-1, -1], "kserve-sim"),
        ("identity_bytes", "BYTES", [-1], "kserve-sim"),
        ("add_sub", "INT32", [-1, 4], "kserve-sim"),
        ("sequence_accumulator", "INT32", [1], "kserve-sim"),
        ("double_fp32", "FP32", [-1, 16], "kserve-sim"),
        ("ensemble_fp32", "FP32", [-1, 16], "ensemble"),
        ("repeat_decoupled", "INT32", [1], "kserve-sim"),
    ])
    func modelMetadata(name: String, datatype: String, shape: [Int64], platform: String) async throws {
        try await withSimulator { client in
            for path in ["/v2/models/\(name)", "/v2/models/\(name)/versions/1"] {
                let response = try await client.get(path)
                #expect(response.status == .ok)
                let metadata = try response.decode(ModelMetadata.self)
                #expect(metadata.name == name)
                #expect(metadata.versions == ["1"])
                #expect(metadata.platform == platform)
                #expect(!metadata.inputs.isEmpty)
                for tensor in metadata.inputs + metadata.outputs {
                    #expect(tensor.datatype == datatype)
                    #expect(tensor.shape.map(\.value) == shape)
                }
            }
            #expect(try await client.get("/v2/models/\(name)/ready").status == .ok)
            #expect(try await client.get("/v2/models/\(name)/versions/1/ready").status == .ok)
        }
    }

    @Test func addSubListsBothInputsAndOutputs() async throws {
        try await withSimulator { client in
            let metadata = try await client.get("/v2/models/add_sub").decode(ModelMetadata.self)
            #expect(metadata.inputs.map(\.name) == ["INPUT0", "INPUT1"])
            #expect(metadata.outputs.map(\.name) == ["OUTPUT0", "OUTPUT1"])
        }
    }

    @Test func unknownModelsAndVersions() async throws {
        try await withSimulator { client in
            let unknown = try await client.get("/v2/models/nope")
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorMessage == "Request for unknown model: 'nope' is not found")
            #expect(try await client.get("/v2/models/nope/ready").status == .badRequest)
            #expect(try await client.get("/v2/models/nope/config").status == .badRequest)
            #expect(try await client.get("/v2/models/nope/stats").status == .badRequest)
            let badVersion = try await client.get("/v2/models/identity_fp32/versions/2/ready")
            #expect(badVersion.status == .badRequest)
            #expect(badVersion.errorMessage == "Request for unknown model: 'identity_fp32' version 2 is not found")
        }
    }

    @Test func configsUseTritonFieldNames() async throws {
        try await withSimulator { client in
            let identity = try await client.get("/v2/models/identity_fp32/config").decode(ModelConfig.self)
            #expect(identity.name == "identity_fp32")
            #expect(identity.max_batch_size?.value == 8)
            #expect(identity.input?.first?.data_type == "TYPE_FP32")
            #expect(identity.input?.first?.dims.map(\.value) == [16])
            #expect(identity.output?.first?.name == "OUTPUT0")
            #expect(identity.model_transaction_policy?.decoupled == false)
            #expect(identity.sequence_batching == nil)
            #expect(identity.ensemble_scheduling == nil)

            let bytes = try await client.get("/v2/models/identity_bytes/config").decode(ModelConfig.self)
            #expect(bytes.input?.first?.data_type == "TYPE_STRING")
            #expect(bytes.max_batch_size?.value == 0)

            let dynamic = try await client.get("/v2/models/identity_int32_dynamic/versions/1/config").decode(ModelConfig.self)
            #expect(dynamic.input?.first?.dims.map(\.value) == [-1, -1])

            let sequence = try await client.get("/v2/models/sequence_accumulator/config").decode(ModelConfig.self)
            let controls = sequence.sequence_batching?.control_input ?? []
            #expect(controls.map(\.name) == ["START", "END", "CORRID"])
            #expect(controls.flatMap(\.control).map(\.kind)
                    == [SequenceControlKind.start, SequenceControlKind.end, SequenceControlKind.correlationID])
            #expect(controls.last?.control.first?.data_type == "TYPE_UINT64")

            let ensemble = try await client.get("/v2/models/ensemble_fp32/config").decode(ModelConfig.self)
            #expect(ensemble.platform == "ensemble")
            #expect(ensemble.ensemble_scheduling?.step.map(\.model_name) == ["identity_fp32", "double_fp32"])
            #expect(ensemble.ensemble_scheduling?.step.first?.model_version?.value == -1)
        }
    }
}
