import KServeProtocol

/// Finds the model a run measures and applies the rules a model puts on the run: it must be
/// ready, its batch size holds `-b`, a sequence model takes batch 1, a decoupled one needs a stream.
struct ModelDiscovery {
    var options: PerfAnalyzerOptions

    /// Readiness, metadata and config of the model (and of an ensemble's steps).
    func discover(_ server: any InferenceServerControl) async throws -> ModelDescription {
        let ready: Bool
        do {
            ready = try await server.isServerReady()
        } catch let error as ConnectionError {
            throw RunError(error.description)
        }
        if !ready, options.tritonCAPI != nil {
            throw RunError("the in-process Triton server is not ready")
        }
        if !ready {
            let prefix = (try? ServerAddress(parsing: options.url, defaultPort: 8000))?.pathPrefix ?? ""
            let check = options.wireProtocol == .grpc ? "ServerReady answered false" : "GET \(prefix)/v2/health/ready did not answer 200"
            throw RunError("the server at \(options.url) is not ready (\(check))")
        }
        let name = options.modelName
        let version = options.modelVersion
        let metadata: ModelMetadata
        let config: ModelConfig
        do {
            metadata = try await server.modelMetadata(name: name, version: version)
        } catch let error as ServerError {
            throw RunError("failed to get model metadata: \(error.description)")
        }
        do {
            config = try await server.modelConfig(name: name, version: version)
        } catch let error as ServerError {
            throw RunError("failed to get model config: \(error.description)")
        }
        var description: ModelDescription
        do {
            description = try ModelDescription.make(metadata: metadata, config: config, requestedVersion: version)
            try description.checkBatchSize(options.batchSize)
        } catch {
            throw RunError(error.description)
        }
        if description.isSequence && options.batchSize > 1 {
            throw RunError("-b \(options.batchSize): model '\(name)' is a sequence model; its requests carry batch size 1")
        }
        if description.isDecoupled && !options.streaming {
            let flags = options.tritonCAPI == nil ? "-i grpc --streaming" : "--streaming"
            throw RunError("model '\(name)' is decoupled (it may answer a request with any number of responses): run it with \(flags)")
        }
        // A BLS model's calls are named on the command line; each must exist on the server.
        for model in options.blsComposingModels {
            do {
                _ = try await server.modelConfig(name: model.name, version: model.version)
            } catch let error as ServerError {
                let named = model.version.isEmpty ? "'\(model.name)'" : "'\(model.name)' version \(model.version)"
                throw RunError("--bls-composing-models: the server has no model \(named): \(error.description)")
            }
        }
        // perf_analyzer lists composing models by name (then version), whatever the step order.
        var cacheInSteps = false
        let composing = try await expandComposing(options.blsComposingModels + description.composingModels, server: server,
                                                  cacheFound: &cacheInSteps)
        description.responseCacheEnabled = description.responseCacheEnabled || cacheInSteps
        var seen = Set<ModelDescription.ComposingModel>()
        description.composingModels = composing.filter { seen.insert($0).inserted }
            .sorted { ($0.name, $0.version) < ($1.name, $1.version) }
        return description
    }

    /// Composing models, depth first, nested ensembles expanded; notes whether any of them
    /// has the response cache on.
    private func expandComposing(_ models: [ModelDescription.ComposingModel], server: any InferenceServerControl,
                                 depth: Int = 0, cacheFound: inout Bool) async throws -> [ModelDescription.ComposingModel] {
        guard depth < 8 else { return models }
        var result: [ModelDescription.ComposingModel] = []
        for model in models {
            result.append(model)
            guard let config = try? await server.modelConfig(name: model.name, version: model.version) else { continue }
            if config.response_cache?.enable == true { cacheFound = true }
            if let steps = config.ensemble_scheduling?.step, !steps.isEmpty {
                let nested = steps.map(ModelDescription.ComposingModel.init(step:))
                result += try await expandComposing(nested, server: server, depth: depth + 1, cacheFound: &cacheFound)
            }
        }
        return result
    }
}
