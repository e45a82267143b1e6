import Foundation
import KServeProtocol
import NIOCore
import NIOPosix

/// One whole run: discover the model, prepare payloads, profile, report.
/// Output goes through `out`/`err` so tests and the CLI see the same text.
public struct PerfAnalyzerRun: Sendable {
    public var options: PerfAnalyzerOptions
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void

    public init(options: PerfAnalyzerOptions,
                out: @escaping @Sendable (String) -> Void = { PerfAnalyzerRun.printFlushed($0) },
                err: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.options = options
        self.out = out
        self.err = err
    }

    /// Prints and flushes, so a report piped into another program (`| tee`) shows each
    /// level as it is measured, as perf_analyzer's does.
    public static func printFlushed(_ text: String) {
        print(text)
        fflush(nil)
    }

    public func run(interruption: Interruption? = nil) async -> ExitStatus {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loadThreads())
        let status: ExitStatus
        do {
            status = try await run(group: group, interruption: interruption)
        } catch let error as RunError {
            err("error: \(error.description)")
            status = error.status
        } catch {
            err("error: \(error)")
            status = .failure
        }
        try? await group.shutdownGracefully()
        return status
    }

    /// Event loops for the load: no more than the cores, the thread limit or the largest level.
    func loadThreads() -> Int {
        let cores = UsableCores.count
        guard options.loadMode == .concurrency else { return max(1, min(cores, options.maxThreads)) }
        let range = options.concurrencyRange
        let largest = range.isOpenEnded ? Int.max : max(range.start, range.end)
        return max(1, min(cores, options.maxThreads, largest))
    }

    private func run(group: MultiThreadedEventLoopGroup, interruption: Interruption?) async throws -> ExitStatus {
        let transport = try await RunTransport.open(options: options, group: group)
        var sharedMemory: SharedMemoryRegions? = nil
        do {
            switch options.sharedMemory {
            case .none: break
            case .system: sharedMemory = try SharedMemoryRegions.make(kind: .system)
            case .cuda: sharedMemory = try SharedMemoryRegions.make(kind: .cuda(device: 0))
            }
            let status = try await profile(transport: transport, group: group, interruption: interruption, sharedMemory: sharedMemory)
            await sharedMemory?.release(from: transport.control)
            await transport.close()
            return status
        } catch {
            // Regions go back whatever failed: the server forgets them, /dev/shm and the GPU lose them.
            await sharedMemory?.release(from: transport.control)
            await transport.close()
            throw error
        }
    }

    private func profile(transport: RunTransport, group: MultiThreadedEventLoopGroup,
                         interruption: Interruption?, sharedMemory: SharedMemoryRegions?) async throws -> ExitStatus {
        try checkCSVDestination()
        let server = transport.control
        let description = try await discoverModel(server)
        let metadata = try? await server.serverMetadata()
        let serverStatistics = metadata?.extensions.contains("statistics") ?? false
        // A stream keeps several requests' worth of work going, as perf_analyzer's async mode does.
        let isAsync = options.streaming || (options.asyncRequested ?? description.isSequence)

        let prepared = try prepareRequests(model: description, address: transport.address, sharedMemory: sharedMemory)
        if let sharedMemory {
            try await sharedMemory.register(with: server, url: options.url, extensions: metadata?.extensions)
        }
        let requests = prepared.requests
        if options.verbosity > 1, let first = requests.first {
            // Extra verbose: the first request without its tensor bytes.
            out("inference request: \(first.jsonHeader)")
        }
        let sequences = description.isSequence
            ? SequenceSource(streams: prepared.streams, streamsSetLength: prepared.streamsSetLength, options: options.sequences) : nil
        if let sequences { try checkSequenceIDs(sequences) }
        let console = ConsoleReport(options: options, isAsync: isAsync, serverStatistics: serverStatistics,
                                    isDecoupled: description.isDecoupled, isSequence: description.isSequence)
        out(console.settingsBlock())

        let loops = Array(group.makeIterator().prefix(loadThreads()))
        let makeSlot = try transport.slotFactory(loops: loops, requests: requests, isDecoupled: description.isDecoupled)
        let driver = makeDriver(loops: loops, requestCount: requests.count, isAsync: isAsync, sequences: sequences, makeSlot: makeSlot)
        // One model's statistics when that is all we report; an ensemble needs its steps' too.
        let name = description.name
        let version = options.modelVersion
        let onlyModel = description.composingModels.isEmpty
        let statistics: (@Sendable () async throws -> StatisticsResponse)? = serverStatistics ? { @Sendable in
            onlyModel ? try await server.statistics(name: name, version: version) : try await server.allStatistics()
        } : nil
        let out = self.out
        let profiler = Profiler(
            settings: Profiler.Settings(options: options, isAsync: isAsync),
            driver: driver, model: description, modelVersion: options.modelVersion,
            statistics: statistics, print: out, printError: err,
            interrupted: { interruption?.isRequested ?? false },
            levelReported: { out(console.levelBlock($0)) }
        )
        let outcome = await profiler.run()
        await driver.quiesce(timeout: .seconds(10))
        await driver.closeSequences()
        await driver.close()
        await transport.closeLoad()

        if !outcome.levels.isEmpty {
            out(console.summary(outcome.levels))
            if let path = options.csvPath {
                let csv = CSVReport(percentile: options.percentile, verbose: options.verboseCSV, serverStatistics: serverStatistics,
                                    isDecoupled: description.isDecoupled, isScheduled: options.loadMode.isScheduled)
                do {
                    try csv.write(outcome.levels, to: path)
                } catch {
                    throw RunError("-f \(path): the CSV file could not be written: \(error.localizedDescription)")
                }
            }
        }
        switch outcome.ending {
        case .completed:
            return .success
        case .unstable(let message):
            err(message)
            return .unstable
        case .failed(let message):
            var line = "error: \(message)"
            if options.sharedMemory != .none, message.contains("shared memory size") {
                line += " (--output-shared-memory-size reserves \(options.outputSharedMemorySize) bytes per batch entry for outputs whose size the model does not fix)"
            }
            err(line)
            return .failure
        case .noValidRequests(let message):
            err("error: \(message)")
            return .measurementError
        case .interrupted:
            err("Interrupted: stopped after the levels shown.")
            return .interrupted
        }
    }

    /// perf_analyzer's first line after reading JSON input data (its leading space included).
    static func loadedDataLine(_ dataSet: InputDataSet) -> String {
        var line = " Successfully read data for \(dataSet.streams.count) stream/streams"
        if dataSet.streams.count == 1 { line += " with \(dataSet.streams[0].count) step/steps" }
        return line + "."
    }

    /// `-f` is written after the run: refuse a destination that cannot be written before any load.
    func checkCSVDestination() throws {
        guard let path = options.csvPath else { return }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError("-f \(path): the directory \(directory) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw RunError("-f \(path): the directory \(directory) is not writable")
        }
    }

    /// Readiness, metadata and config of the model (and of an ensemble's steps).
    func discoverModel(_ server: any InferenceServerControl) async throws -> ModelDescription {
        let ready: Bool
        do {
            ready = try await server.isServerReady()
        } catch let error as ConnectionError {
            throw RunError(error.description)
        }
        if !ready {
            let check = options.wireProtocol == .grpc ? "ServerReady answered false" : "GET /v2/health/ready did not answer 200"
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
            throw RunError("model '\(name)' is decoupled (it may answer a request with any number of responses): run it with -i grpc --streaming")
        }
        // perf_analyzer lists composing models by name (then version), whatever the step order.
        let composing = try await expandComposing(description.composingModels, server: server)
        var seen = Set<ModelDescription.ComposingModel>()
        description.composingModels = composing.filter { seen.insert($0).inserted }
            .sorted { ($0.name, $0.version) < ($1.name, $1.version) }
        return description
    }

    /// Composing models, depth first, nested ensembles expanded.
    private func expandComposing(_ models: [ModelDescription.ComposingModel], server: any InferenceServerControl,
                                 depth: Int = 0) async throws -> [ModelDescription.ComposingModel] {
        guard depth < 8 else { return models }
        var result: [ModelDescription.ComposingModel] = []
        for model in models {
            result.append(model)
            if let config = try? await server.modelConfig(name: model.name, version: model.version),
               let steps = config.ensemble_scheduling?.step, !steps.isEmpty {
                let nested = steps.map(ModelDescription.ComposingModel.init(step:))
                result += try await expandComposing(nested, server: server, depth: depth + 1)
            }
        }
        return result
    }

    /// Refuses an ID range too small for the sequences the run keeps live at its largest level,
    /// before anything is printed or sent (an open concurrency range is checked level by level).
    private func checkSequenceIDs(_ sequences: SequenceSource) throws {
        let live: Int
        switch options.loadMode {
        case .concurrency:
            let range = options.concurrencyRange
            live = range.isOpenEnded ? range.start : max(range.start, range.end)
        case .requestRate, .requestIntervals:
            live = options.sequences.concurrentSequences
        }
        do {
            try sequences.check(liveSequences: live)
        } catch {
            throw RunError(error.description)
        }
    }

    /// The driver of the run's load mode.
    private func makeDriver(loops: [EventLoop], requestCount: Int, isAsync: Bool, sequences: SequenceSource?,
                            makeSlot: @escaping SlotFactory) -> any LoadDriver {
        let schedule: @Sendable (LoadLevel) -> SendSchedule
        switch options.loadMode {
        case .concurrency:
            return ConcurrencyDriver(loops: loops, requestCount: requestCount, sequences: sequences, makeSlot: makeSlot)
        case .requestRate(_, let distribution):
            schedule = { level in
                guard case .requestRate(let rate) = level else { preconditionFailure("a rate driver runs rates") }
                return SendSchedule(distribution == .poisson ? .poisson(requestsPerSecond: rate, seed: 0x9E1_55E0) : .constant(requestsPerSecond: rate))
            }
        case .requestIntervals(_, let gaps):
            schedule = { _ in SendSchedule(.intervals(nanoseconds: gaps)) }
        }
        return RateDriver(loops: loops, requestCount: requestCount, isAsync: isAsync, maxInFlight: options.maxThreads,
                              spinLeadNs: options.spinBeforeSendUs * 1000, sequences: sequences, concurrentSequences: options.sequences.concurrentSequences,
                              serialSequences: options.sequences.serial, scheduleFor: schedule, makeSlot: makeSlot)
    }

    /// The requests of a run, and how they group into the streams a sequence plays.
    struct PreparedRequests {
        var requests: [PreparedRequest]
        /// Request indices of each input-data stream (one stream for generated and directory data).
        var streams: [Range<Int>]
        /// JSON data: each stream's length is its sequence's length.
        var streamsSetLength: Bool
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
                streamLengths = dataSet.streams.map(\.count)
            }
        } catch let error as GeneratedInputData.MissingShape {
            throw RunError(error.description)
        } catch let error as InputDataError {
            throw RunError(error.description)
        }
        var requests: [PreparedRequest]
        let layout = sharedMemory.map {
            SharedMemoryLayout(regions: $0, model: model, batchSize: options.batchSize,
                               outputSizePerEntry: options.outputSharedMemorySize, separateOutputs: plan.expected != nil)
        }
        let bind = layout.map { $0.bind(index:steps:) }
        do {
            switch options.wireProtocol {
            case .http:
                let builder = InferRequestBuilder(model: model, host: address.hostHeader, headers: options.headers,
                                                  inputFormat: options.inputTensorFormat, outputFormat: options.outputTensorFormat)
                requests = try plan.requests(batchSize: options.batchSize, builder: builder, bindSharedMemory: bind)
            case .grpc:
                let builder = GRPCInferRequestBuilder(model: model, requestsFinalResponseMarker: model.isDecoupled && options.streaming)
                requests = try plan.requests(batchSize: options.batchSize, builder: builder, bindSharedMemory: bind)
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
        return PreparedRequests(requests: requests, streams: streams, streamsSetLength: streamLengths != nil)
    }
}
