import GRPCCore
import KServeGRPC
import KServeProtocol
import NIOCore

/// `inference.GRPCInferenceService` over the same models, statistics,
/// recorder and shared-memory regions as the HTTP endpoint. RPCs without an
/// HTTP counterpart here (repository, trace and log settings) answer
/// `unimplemented`; CUDA shared memory answers as a Triton without GPUs.
struct GRPCService: Inference_GRPCInferenceService.ServiceProtocol {
    let core: ServerCore
    let pipeline: GRPCInferencePipeline
    /// Answers that never change, built once.
    private let serverMetadata: Inference_ServerMetadataResponse
    private let metadata: [Inference_ModelMetadataResponse]
    private let configs: [Inference_ModelConfigResponse]

    /// The stream-ending request parameter the client tests use to see a stream die mid-run.
    static let closeStreamParameter = "sim_close_stream"

    init(core: ServerCore, group: any EventLoopGroup) {
        self.core = core
        self.pipeline = GRPCInferencePipeline(core: core, group: group)
        var server = Inference_ServerMetadataResponse()
        server.name = ServerCore.serverName
        server.version = ServerCore.serverVersion
        server.extensions = ServerCore.extensions
        serverMetadata = server
        metadata = core.catalog.models.map(GRPCConversions.metadata(of:))
        configs = core.catalog.models.map { model in
            var response = Inference_ModelConfigResponse()
            response.config = GRPCConversions.config(of: model)
            return response
        }
    }

    // MARK: Health and metadata

    func serverLive(request: ServerRequest<Inference_ServerLiveRequest>,
                    context: ServerContext) async throws -> ServerResponse<Inference_ServerLiveResponse> {
        var response = Inference_ServerLiveResponse()
        response.live = true
        return ServerResponse(message: response)
    }

    func serverReady(request: ServerRequest<Inference_ServerReadyRequest>,
                     context: ServerContext) async throws -> ServerResponse<Inference_ServerReadyResponse> {
        var response = Inference_ServerReadyResponse()
        response.ready = true
        return ServerResponse(message: response)
    }

    func modelReady(request: ServerRequest<Inference_ModelReadyRequest>,
                    context: ServerContext) async throws -> ServerResponse<Inference_ModelReadyResponse> {
        _ = try resolve(request.message.name, request.message.version)
        var response = Inference_ModelReadyResponse()
        response.ready = true
        return ServerResponse(message: response)
    }

    func serverMetadata(request: ServerRequest<Inference_ServerMetadataRequest>,
                        context: ServerContext) async throws -> ServerResponse<Inference_ServerMetadataResponse> {
        ServerResponse(message: serverMetadata)
    }

    func modelMetadata(request: ServerRequest<Inference_ModelMetadataRequest>,
                       context: ServerContext) async throws -> ServerResponse<Inference_ModelMetadataResponse> {
        ServerResponse(message: metadata[try resolve(request.message.name, request.message.version)])
    }

    func modelConfig(request: ServerRequest<Inference_ModelConfigRequest>,
                     context: ServerContext) async throws -> ServerResponse<Inference_ModelConfigResponse> {
        ServerResponse(message: configs[try resolve(request.message.name, request.message.version)])
    }

    /// An empty name asks for every model, as over HTTP's `/v2/models/stats`.
    func modelStatistics(request: ServerRequest<Inference_ModelStatisticsRequest>,
                         context: ServerContext) async throws -> ServerResponse<Inference_ModelStatisticsResponse> {
        let models = request.message.name.isEmpty
            ? Array(core.catalog.models.indices)
            : [try resolve(request.message.name, request.message.version)]
        var response = Inference_ModelStatisticsResponse()
        response.modelStats = models.map { GRPCConversions.statistics(core.statistics.snapshot(model: $0)) }
        return ServerResponse(message: response)
    }

    private func resolve(_ name: String, _ version: String) throws(RPCError) -> Int {
        do {
            return try pipeline.resolve(model: name, version: version)
        } catch {
            throw RPCError(code: .notFound, message: error.message)
        }
    }

    // MARK: Inference

    func modelInfer(request: ServerRequest<Inference_ModelInferRequest>,
                    context: ServerContext) async throws -> ServerResponse<Inference_ModelInferResponse> {
        if let fault = core.faults?.faultForNextRequest() {
            return ServerResponse(message: try await faultedInfer(request, fault: fault))
        }
        return ServerResponse(message: try await infer(request, fault: nil))
    }

    /// One unary inference, answered or refused with a status; `fault` only goes into the record.
    func infer(_ request: ServerRequest<Inference_ModelInferRequest>,
               fault: SimulatorFault.Mode?) async throws -> Inference_ModelInferResponse {
        let sequence = pipeline.sequenceArrival(of: request.message)
        // Leaves the count when the response is handed over, before grpc-swift writes it.
        defer { sequence?.answered() }
        do throws(GRPCInferencePipeline.Failure) {
            let prepared = try pipeline.prepare(request.message, sequence: sequence,
                                                headers: GRPCConversions.recordedHeaders(request.metadata),
                                                refuseDecoupled: true, fault: fault)
            return try await pipeline.runSingle(prepared)
        } catch {
            throw Self.statusError(error)
        }
    }

    /// Answers the requests of a stream one after another, in order. A request
    /// that fails gets a response with `error_message` and the stream goes on,
    /// as with Triton; only `sim_close_stream` ends the stream (with an error status).
    func modelStreamInfer(request: StreamingServerRequest<Inference_ModelInferRequest>,
                          context: ServerContext) async throws -> StreamingServerResponse<Inference_ModelStreamInferResponse> {
        let metadata = request.metadata
        let recording = core.recorder != nil
        let pipeline = self.pipeline
        let faults = core.faults
        return StreamingServerResponse { writer in
            let headers = recording ? GRPCConversions.recordedHeaders(metadata) : [:]
            func answerInTurn(_ message: Inference_ModelInferRequest, sequence: SequenceArrival?) async throws {
                if message.parameters[Self.closeStreamParameter]?.parameterChoice == .boolParam(true) {
                    throw RPCError(code: .unavailable, message: "stream closed by request (\(Self.closeStreamParameter))")
                }
                if let fault = faults?.faultForNextRequest() {
                    return try await Self.answerFaulted(message, fault: fault, sequence: sequence, headers: headers,
                                                        pipeline: pipeline) { response in
                        try await writer.write(response)
                    }
                }
                try await Self.answer(message, sequence: sequence, headers: headers, pipeline: pipeline) { response in
                    try await writer.write(response)
                }
            }
            guard recording else {
                for try await message in request.messages { try await answerInTurn(message, sequence: nil) }
                return [:]
            }
            // A request queued behind another on this stream has arrived all the same: a
            // reader takes each one off the stream as it comes, so its sequence counts it
            // as in flight from then on, not from when its turn comes.
            let (arrived, arrivals) = AsyncThrowingStream.makeStream(of: ArrivedRequest.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await message in request.messages {
                            arrivals.yield(ArrivedRequest(message: message, sequence: pipeline.sequenceArrival(of: message)))
                        }
                        arrivals.finish()
                    } catch {
                        arrivals.finish(throwing: error)
                    }
                }
                for try await next in arrived { try await answerInTurn(next.message, sequence: next.sequence) }
            }
            return [:]
        }
    }

    /// A streamed request taken off the stream before its turn, with its place among its sequence's requests in flight.
    private struct ArrivedRequest: Sendable {
        var message: Inference_ModelInferRequest
        var sequence: SequenceArrival?
    }

    /// Sends every response for one streamed request, or one error response.
    /// `sequence` leaves the in-flight count just before the request's last response is written.
    /// `fault` only goes into the record.
    static func answer(_ message: Inference_ModelInferRequest, sequence: SequenceArrival?,
                       headers: [String: String], pipeline: GRPCInferencePipeline, fault: SimulatorFault.Mode? = nil,
                       write: (Inference_ModelStreamInferResponse) async throws -> Void) async throws {
        // For the paths that write nothing last (a decoupled request with no responses and no final marker).
        defer { sequence?.answered() }
        func failed(_ text: String) async throws {
            var response = Inference_ModelStreamInferResponse()
            response.errorMessage = text
            // Carries the request id, so a client with several requests in flight knows which one failed.
            response.inferResponse = GRPCInferencePipeline.identity(of: message)
            sequence?.answered()
            try await write(response)
        }
        func sent(_ infer: Inference_ModelInferResponse, last: Bool) async throws {
            var response = Inference_ModelStreamInferResponse()
            response.inferResponse = infer
            if last { sequence?.answered() }
            try await write(response)
        }

        let prepared: GRPCInferencePipeline.Prepared
        do throws(GRPCInferencePipeline.Failure) {
            prepared = try pipeline.prepare(message, sequence: sequence, headers: headers, refuseDecoupled: false,
                                            fault: fault)
        } catch {
            return try await failed(error.message)
        }
        let marksFinal = prepared.plan.parameters?[GRPCInferencePipeline.enableFinalResponse]?.boolValue == true
        let finalFlag = GRPCInferencePipeline.finalResponse

        guard pipeline.core.catalog[prepared.modelIndex].decoupled else {
            var response: Inference_ModelInferResponse
            do throws(GRPCInferencePipeline.Failure) {
                response = try await pipeline.runSingle(prepared)
            } catch {
                return try await failed(error.message)
            }
            // The one response of a plain model is also its last.
            if marksFinal { response.parameters[finalFlag] = GRPCConversions.boolParameter(true) }
            return try await sent(response, last: true)
        }

        let outcome = try await pipeline.runDecoupled(prepared) { response, isLast in
            var response = response
            if marksFinal { response.parameters[finalFlag] = GRPCConversions.boolParameter(false) }
            try await sent(response, last: isLast && !marksFinal)
        }
        switch outcome {
        case .failure(let error):
            try await failed(error.message)
        case .success:
            if marksFinal {
                var marker = GRPCInferencePipeline.emptyResponse(plan: prepared.plan)
                marker.parameters[finalFlag] = GRPCConversions.boolParameter(true)
                try await sent(marker, last: true)
            }
        }
    }

    static func statusError(_ failure: GRPCInferencePipeline.Failure) -> RPCError {
        switch failure {
        case .unknownModel(let message):
            return RPCError(code: .notFound, message: message)
        case .refused(let error):
            return RPCError(code: .invalidArgument, message: error.message)
        case .unsupported(let error):
            return RPCError(code: .unimplemented, message: error.message)
        }
    }

    // MARK: Shared memory

    /// A server configured without the extension answers as if it had no such RPC.
    private func checkSystemSharedMemoryOffered() throws {
        guard core.offersSystemSharedMemory else {
            throw RPCError(code: .unimplemented, message: "this kserve-sim has no system shared-memory extension (--system-shared-memory absent)")
        }
    }

    /// An empty name asks for every region, as over HTTP's `/v2/systemsharedmemory/status`.
    func systemSharedMemoryStatus(request: ServerRequest<Inference_SystemSharedMemoryStatusRequest>,
                                  context: ServerContext) async throws -> ServerResponse<Inference_SystemSharedMemoryStatusResponse> {
        try checkSystemSharedMemoryOffered()
        let name = request.message.name
        do throws(SharedMemoryRegistry.Failure) {
            var response = Inference_SystemSharedMemoryStatusResponse()
            for region in try core.sharedMemory.status(name: name.isEmpty ? nil : name) {
                var status = Inference_SystemSharedMemoryStatusResponse.RegionStatus()
                status.name = region.name
                status.key = region.key
                status.offset = UInt64(region.offset)
                status.byteSize = UInt64(region.byteSize)
                response.regions[region.name] = status
            }
            return ServerResponse(message: response)
        } catch {
            throw Self.statusError(error)
        }
    }

    func systemSharedMemoryRegister(request: ServerRequest<Inference_SystemSharedMemoryRegisterRequest>,
                                    context: ServerContext) async throws -> ServerResponse<Inference_SystemSharedMemoryRegisterResponse> {
        try checkSystemSharedMemoryOffered()
        let message = request.message
        guard let offset = Int(exactly: message.offset), let byteSize = Int(exactly: message.byteSize) else {
            throw RPCError(code: .invalidArgument,
                           message: "failed to register shared memory region '\(message.name)': offset \(message.offset) or byte_size \(message.byteSize) is too large")
        }
        do throws(SharedMemoryRegistry.Failure) {
            try core.sharedMemory.register(name: message.name, key: message.key, offset: offset, byteSize: byteSize)
        } catch {
            throw Self.statusError(error)
        }
        return ServerResponse(message: Inference_SystemSharedMemoryRegisterResponse())
    }

    /// An empty name unregisters every region.
    func systemSharedMemoryUnregister(request: ServerRequest<Inference_SystemSharedMemoryUnregisterRequest>,
                                      context: ServerContext) async throws -> ServerResponse<Inference_SystemSharedMemoryUnregisterResponse> {
        try checkSystemSharedMemoryOffered()
        let name = request.message.name
        core.sharedMemory.unregister(name: name.isEmpty ? nil : name)
        return ServerResponse(message: Inference_SystemSharedMemoryUnregisterResponse())
    }

    /// No CUDA region is ever registered: the list is empty and a named region is unknown.
    func cudaSharedMemoryStatus(request: ServerRequest<Inference_CudaSharedMemoryStatusRequest>,
                                context: ServerContext) async throws -> ServerResponse<Inference_CudaSharedMemoryStatusResponse> {
        guard request.message.name.isEmpty else {
            throw RPCError(code: .notFound, message: CUDASharedMemory.unknownRegion(request.message.name))
        }
        return ServerResponse(message: Inference_CudaSharedMemoryStatusResponse())
    }

    func cudaSharedMemoryRegister(request: ServerRequest<Inference_CudaSharedMemoryRegisterRequest>,
                                  context: ServerContext) async throws -> ServerResponse<Inference_CudaSharedMemoryRegisterResponse> {
        throw RPCError(code: .failedPrecondition, message: CUDASharedMemory.registerRefusal(region: request.message.name))
    }

    /// Succeeds: there is nothing to unregister (perf_analyzer unregisters both kinds before it starts).
    func cudaSharedMemoryUnregister(request: ServerRequest<Inference_CudaSharedMemoryUnregisterRequest>,
                                    context: ServerContext) async throws -> ServerResponse<Inference_CudaSharedMemoryUnregisterResponse> {
        ServerResponse(message: Inference_CudaSharedMemoryUnregisterResponse())
    }

    /// The status code Triton gives each kind of refusal.
    private static func statusError(_ failure: SharedMemoryRegistry.Failure) -> RPCError {
        let code: RPCError.Code
        switch failure.kind {
        case .alreadyExists: code = .alreadyExists
        case .notFound: code = .notFound
        case .invalidArgument: code = .invalidArgument
        case .internal: code = .internalError
        }
        return RPCError(code: code, message: failure.message)
    }

    // MARK: Not simulated

    private static func unimplemented(_ method: String) -> RPCError {
        RPCError(code: .unimplemented, message: "kserve-sim does not implement \(method)")
    }

    func repositoryIndex(request: ServerRequest<Inference_RepositoryIndexRequest>,
                         context: ServerContext) async throws -> ServerResponse<Inference_RepositoryIndexResponse> {
        throw Self.unimplemented("RepositoryIndex")
    }

    func repositoryModelLoad(request: ServerRequest<Inference_RepositoryModelLoadRequest>,
                             context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelLoadResponse> {
        throw Self.unimplemented("RepositoryModelLoad")
    }

    func repositoryModelUnload(request: ServerRequest<Inference_RepositoryModelUnloadRequest>,
                               context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelUnloadResponse> {
        throw Self.unimplemented("RepositoryModelUnload")
    }

    func traceSetting(request: ServerRequest<Inference_TraceSettingRequest>,
                      context: ServerContext) async throws -> ServerResponse<Inference_TraceSettingResponse> {
        throw Self.unimplemented("TraceSetting")
    }

    func logSettings(request: ServerRequest<Inference_LogSettingsRequest>,
                     context: ServerContext) async throws -> ServerResponse<Inference_LogSettingsResponse> {
        throw Self.unimplemented("LogSettings")
    }
}
