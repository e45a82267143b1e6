import KServeProtocol

/// Builds the wire bytes of every request a run sends, before the load starts: the input data
/// (generated, a directory or JSON files), batched as `-b` asks, encoded for the protocol,
/// and placed in shared memory when the run uses it.
struct RequestPreparation {
    var options: PerfAnalyzerOptions
    /// Where the lines about the data read go (perf_analyzer prints one).
    var out: @Sendable (String) -> Void

    /// perf_analyzer's first line after reading JSON input data (its leading space included).
    static func loadedDataLine(_ dataSet: InputDataSet) -> String {
        var line = " Successfully read data for \(dataSet.streamLengths.count) stream/streams"
        if dataSet.streamLengths.count == 1 { line += " with \(dataSet.streamLengths[0]) step/steps" }
        return line + "."
    }

    /// The requests of a run, and how they group into the streams a sequence plays.
    struct PreparedRequests {
        var requests: [PreparedRequest]
        /// Request indices of each input-data stream (one stream for generated and directory data).
        var streams: [Range<Int>]
        /// JSON data: each stream's length is its sequence's length.
        var streamsSetLength: Bool
        /// With `--profile-export-file`: each request's `request_inputs`, encoded once. Like
        /// perf_analyzer, the export shows the first data step of a batched request.
        var exportInputs: [[UInt8]] = []
        /// `--service-kind triton_c_api`: every request's input tensors, as the C API takes them.
        var cAPIRequests: CAPIRequestTable? = nil
        /// `--fixed-schedule`: when each request goes, ns after the start, in request order.
        var scheduleOffsetsNs: [UInt64]? = nil
        /// `--session-concurrency`: the chats, their turns and what each turn adds, and the
        /// builder that makes each turn's request as it goes.
        var chatSessions: ChatSessionPlan? = nil
        var openAIBuilder: OpenAIRequestBuilder? = nil
    }

    /// `--service-kind openai`: one HTTP request per body, from the input data or generated.
    func prepareOpenAIRequests(_ settings: PerfAnalyzerOptions.OpenAI, address: ServerAddress) throws -> PreparedRequests {
        let payloads: [OpenAIPayload]
        if let synthetic = settings.synthetic {
            payloads = synthetic.generate()
        } else {
            guard case .jsonFiles(let paths) = options.inputData else { preconditionFailure("the options require JSON files") }
            do {
                payloads = try OpenAIPayloadFile.load(paths: paths)
            } catch {
                throw RunError("--input-data: \(error.description)")
            }
            out(" Successfully read data for 1 stream/streams with \(payloads.count) step/steps.")
        }
        let builder = OpenAIRequestBuilder(endpoint: settings.endpoint, address: address, headers: options.headers)
        let requests = builder.build(payloads)
        var prepared = PreparedRequests(requests: requests, streams: [0..<requests.count], streamsSetLength: false)
        prepared.openAIBuilder = builder
        if options.loadMode == .fixedSchedule {
            var offsets: [UInt64] = []
            for (index, payload) in payloads.enumerated() {
                guard let timestamp = payload.timestampMs else {
                    throw RunError("--fixed-schedule: --input-data: data[\(index)] has no 'timestamp' (msec after the start, when it is sent)")
                }
                offsets.append(timestamp * 1_000_000)
            }
            prepared.scheduleOffsetsNs = offsets
        }
        if let sessions = options.sessionConcurrency {
            let plan: ChatSessionPlan
            do {
                plan = try ChatSessionPlan(payloads: payloads)
            } catch {
                throw RunError(error.description)
            }
            guard plan.sessions.count >= sessions else {
                throw RunError("--session-concurrency \(sessions): --input-data has \(plan.sessions.count) session\(plan.sessions.count == 1 ? "" : "s") (distinct 'session_id's); give as many as the concurrency or lower it")
            }
            prepared.chatSessions = plan
        }
        if options.profileExportPath != nil {
            prepared.exportInputs = payloads.map { ProfileExportWriter.encodePayloadInput($0.body) }
        }
        return prepared
    }

    /// The wire bytes of every request the run will send, built before the load starts.
    func prepareRequests(model: ModelDescription, address: ServerAddress, sharedMemory: SharedMemoryRegions? = nil) throws -> PreparedRequests {
        let plan: RequestPlan
        var streamLengths: [Int]? = nil
        do {
            switch options.inputData {
            case .random, .zero:
                let step = try GeneratedInputData.makeStep(model: model, source: options.inputData, shapes: options.shapes,
                                                           stringLength: options.stringLength, stringData: options.stringData)
                plan = RequestPlan(steps: [step], expected: nil)
            case .directory(let path):
                plan = RequestPlan(dataSet: try InputDataLoader.loadDirectory(path: path, model: model, shapes: options.shapes))
            case .jsonFiles(let paths):
                let dataSet = try InputDataLoader.loadJSON(paths: paths, model: model, shapes: options.shapes)
                out(Self.loadedDataLine(dataSet))
                plan = RequestPlan(dataSet: dataSet)
                streamLengths = dataSet.streamLengths
            }
        } catch let error as GeneratedInputData.MissingShape {
            throw RunError(error.description)
        } catch let error as InputDataError {
            throw RunError(error.description)
        }
        var requests: [PreparedRequest]
        var cAPIRequests: CAPIRequestTable? = nil
        let layout = sharedMemory.map {
            SharedMemoryLayout(regions: $0, model: model, batchSize: options.batchSize,
                               outputSizePerEntry: options.outputSharedMemorySize, separateOutputs: plan.expected != nil)
        }
        let bind = layout.map { $0.bind(index:steps:) }
        do {
            if options.tritonCAPI != nil {
                let table = CAPIRequestTable.Builder()
                requests = try plan.requests(batchSize: options.batchSize, builder: CAPIRequestEncoding(model: model, table: table))
                cAPIRequests = table.finish()
            } else {
                switch options.wireProtocol {
                case .http:
                    let builder = InferRequestBuilder(model: model, host: address.hostHeader, headers: options.headers,
                                                      inputFormat: options.inputTensorFormat, outputFormat: options.outputTensorFormat,
                                                      parameters: options.requestParameters, pathPrefix: address.pathPrefix)
                    requests = try plan.requests(batchSize: options.batchSize, builder: builder, bindSharedMemory: bind)
                case .grpc:
                    let builder = GRPCInferRequestBuilder(model: model, requestsFinalResponseMarker: model.isDecoupled && options.streaming,
                                                          parameters: options.requestParameters)
                    requests = try plan.requests(batchSize: options.batchSize, builder: builder, bindSharedMemory: bind)
                }
            }
        } catch let error as RequestPlan.PlanError {
            throw RunError(error.description)
        }
        if let layout {
            // Validation reads each request's outputs from the regions the server wrote them to.
            for index in requests.indices where requests[index].expected != nil {
                requests[index].expected?.outputRegions = layout.outputRegions[index]
            }
        }
        // Sequence models send batch size 1, so request i is data step i and streams keep their ranges.
        var streams: [Range<Int>] = [0..<requests.count]
        if let streamLengths, model.isSequence {
            var start = 0
            streams = streamLengths.map { length in
                defer { start += length }
                return start..<(start + length)
            }.filter { !$0.isEmpty }
        }
        var prepared = PreparedRequests(requests: requests, streams: streams, streamsSetLength: streamLengths != nil, cAPIRequests: cAPIRequests)
        if options.profileExportPath != nil {
            prepared.exportInputs = requests.indices.map { index in
                ProfileExportWriter.encodeInputs(plan.steps[(index * options.batchSize) % plan.steps.count])
            }
        }
        return prepared
    }
}
