import Foundation
import KServeProtocol
import NIOCore
import NIOPosix

/// One whole run: discover the model, prepare payloads, profile, report. This file composes
/// the parts; what a run acquires and gives back on every way out is in RunLifecycle.swift.
/// Output goes through `out`/`err` so tests and the CLI see the same text.
public struct PerfAnalyzerRun: Sendable {
    public var options: PerfAnalyzerOptions
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    /// `--enable-mpi`: this process's place among mpirun's ranks.
    public var mpiWorld: MPIWorld?

    /// How this rank meets the others, as `--mpi-split-load` says.
    var ranks: (any RankCoordination)? {
        guard let mpiWorld, let mode = options.mpi else { return nil }
        switch mode {
        case .allRanksStable: return AllRanksStable(world: mpiWorld)
        case .splitLoad: return SplitLoad(world: mpiWorld)
        }
    }

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

    /// The run itself, once its transport, regions and export file exist: discover, prepare,
    /// compose the driver, the profiler and the event consumers, measure, report.
    func profile(transport: RunTransport, group: MultiThreadedEventLoopGroup, interruption: Interruption?,
                         sharedMemory: SharedMemoryRegions?, exportFile: ProfileExportWriter.ExportFile?,
                         metrics: ServerMetricsCollector?) async throws -> ExitStatus {
        let server = transport.control
        // An OpenAI-compatible server describes no model: its requests are whole bodies.
        let description = options.openAI != nil
            ? ModelDescription(name: options.modelName, version: options.modelVersion, platform: "openai", maxBatchSize: 0, inputs: [], outputs: [])
            : try await ModelDiscovery(options: options).discover(server)
        if !options.traceSettings.isEmpty {
            do {
                try await server.updateTraceSettings(options.traceSettings)
            } catch let error as ServerError {
                throw RunError("--trace-level/--trace-rate/--trace-count/--log-frequency: the server did not take the trace settings: \(error.description)")
            }
        }
        let metadata = options.openAI == nil ? try? await server.serverMetadata() : nil
        if let metrics {
            // One read before any load: a metrics URL that does not answer stops the run here.
            do {
                _ = try await metrics.probe()
            } catch {
                throw RunError(error.description)
            }
            for notice in metrics.harvest().notices { err(notice) }
        }
        // Split load: rank 0 alone asks the server for statistics, as it alone reports.
        let serverStatistics = (metadata?.extensions.contains("statistics") ?? false) && (ranks?.reports ?? true)
        // A stream keeps several requests' worth of work going, as perf_analyzer's async mode does.
        let isAsync = options.streaming || options.openAI != nil || (options.asyncRequested ?? description.isSequence)

        let preparation = RequestPreparation(options: options, out: out)
        let prepared = try options.openAI.map { try preparation.prepareOpenAIRequests($0, address: transport.address) }
            ?? preparation.prepareRequests(model: description, address: transport.address, sharedMemory: sharedMemory)
        if let sharedMemory {
            try await sharedMemory.register(with: server, url: options.url, extensions: metadata?.extensions)
        }
        let requests = prepared.requests
        // A fixed schedule measures every entry of its data once: one window of them all.
        var options = self.options
        if options.loadMode == .fixedSchedule { options.requestCount = requests.count }
        // Chat sessions: every turn of every session once.
        if let plan = prepared.chatSessions { options.requestCount = plan.turnCount }
        if options.verbosity > 1, let first = requests.first {
            // Extra verbose: the first request without its tensor bytes.
            out("inference request: \(first.jsonHeader)")
        }
        let sequences = description.isSequence
            ? SequenceSource(streams: prepared.streams, streamsSetLength: prepared.streamsSetLength, options: options.sequences) : nil
        if let sequences { try checkSequenceIDs(sequences) }
        var context = RunContext(options: options, isAsync: isAsync, serverStatistics: serverStatistics,
                                 isDecoupled: description.isDecoupled, isSequence: description.isSequence)
        context.responseCache = description.responseCacheEnabled
        context.topLevelResponseCache = description.topLevelResponseCache
        // Once, before any load, and only where sends follow a schedule: what a level's send lag
        // is judged against (about 10 ms).
        if options.loadMode.isScheduled { context.timerFloor = TimerFloor.measure() }
        let console = ConsoleReporter(report: ConsoleReport(context: context), out: out, err: err)
        var consumers: [any RunEventConsumer] = [console]
        let csv = options.csvPath.map { path in
            CSVReporter(report: CSVReport(percentile: options.percentile, verbose: options.verboseCSV, serverStatistics: serverStatistics,
                                          isDecoupled: description.isDecoupled, isScheduled: options.loadMode.isScheduled,
                                          responseCache: description.responseCacheEnabled,
                                          serverMetrics: options.serverMetrics != nil), path: path,
                        llm: context.reportsTokens ? LLMCSVReport(isScheduled: options.loadMode.isScheduled, goodput: options.goodput) : nil)
        }
        if let csv { consumers.append(csv) }
        let html = options.htmlReportPath.map { HTMLReporter(context: context, path: $0) }
        if let html { consumers.append(html) }
        let exportWire: ExportResponseOutputs.Wire = options.openAI != nil ? .openAI : options.tritonCAPI != nil ? .cAPI
            : options.wireProtocol == .http ? .http : (options.streaming ? .grpcStream : .grpcUnary)
        let export = exportFile.map { file in
            ProfileExportWriter(file: file, requestInputs: prepared.exportInputs, wire: exportWire,
                                serviceKind: context.serviceKind, endpoint: options.openAI?.endpoint ?? "",
                                version: PerfAnalyzerCommand.version)
        }
        if let export { consumers.append(export) }
        // Split load, not rank 0: the window's requests go to rank 0's export.
        let exportRelay = exportFile == nil && options.profileExportPath != nil && !(ranks?.reports ?? true)
            ? ExportRelay(encoder: ExportEntryEncoder(requestInputs: prepared.exportInputs, wire: exportWire)) : nil
        let exportSpool: (any ExportSpool)? = export ?? exportRelay
        out(console.report.settingsBlock())

        let loops = Array(group.makeIterator().prefix(loadThreads()))
        let makeSlot = try transport.slotFactory(loops: loops, requests: requests, isDecoupled: description.isDecoupled,
                                                 cAPIRequests: prepared.cAPIRequests)
        if let periodic = options.periodicConcurrency, let export {
            let status = try await PeriodicConcurrencyRun.run(settings: periodic, loops: loops, requestCount: requests.count,
                                                              makeSlot: makeSlot, export: export, requestTimeoutMs: options.requestTimeoutMs,
                                                              interrupted: { interruption?.isRequested ?? false }, err: err)
            await transport.closeLoad()
            return status
        }
        // Chat sessions: each slot plays whole sessions, building each turn's request as it goes.
        var makeFeed: (@Sendable (LoadCounters) -> any SendFeed)?
        if let plan = prepared.chatSessions, let builder = prepared.openAIBuilder {
            let queue = ChatSessionQueue(plan: plan)
            let exports = options.profileExportPath != nil
            makeFeed = { counters in ChatSessionFeed(queue: queue, counters: counters, builder: builder, exports: exports) }
        }
        let driver = makeDriver(loops: loops, requestCount: requests.count, isAsync: isAsync, sequences: sequences, ranks: ranks,
                                scheduleOffsetsNs: prepared.scheduleOffsetsNs, makeFeed: makeFeed,
                                makeSinks: { [context] window in
                                    LoopSinks(window: window, export: exportSpool.map(ExportRecorder.init(spool:)),
                                              tokens: context.reportsTokens ? TokenRecorder(scheduled: context.loadMode.isScheduled, goodput: context.goodput) : nil)
                                }, makeSlot: makeSlot)
        // One model's statistics when that is all we report; an ensemble needs its steps' too.
        let name = description.name
        let version = options.modelVersion
        let onlyModel = description.composingModels.isEmpty
        let statistics: (@Sendable () async throws -> StatisticsResponse)? = serverStatistics ? { @Sendable in
            onlyModel ? try await server.statistics(name: name, version: version) : try await server.allStatistics()
        } : nil
        if ProgressLine.isWanted, ranks?.reports ?? true {
            let progress = ProgressLine(context: context, completed: { driver.completedCount },
                                        write: { FileHandle.standardError.write(Data($0.utf8)) })
            // First, so the line is erased before any other consumer prints.
            consumers.insert(progress, at: 0)
            progress.start()
        }
        let events = RunEventFanOut(consumers)
        let profiler = Profiler(
            settings: Profiler.Settings(context: context),
            driver: driver, model: description, modelVersion: options.modelVersion, statistics: statistics, metrics: metrics, ranks: ranks,
            exportRelay: exportRelay,
            // A failed export write stops the run like Ctrl-C: what was measured is reported.
            interrupted: { (interruption?.isRequested ?? false) || (export?.hasFailed ?? false) },
            emit: events.emit
        )
        driver.watchRequests(limitMs: options.requestTimeoutMs)
        let outcome = await profiler.run()
        let abandoned = await driver.quiesce(timeout: Self.drainTime(slowestAnswerNs: driver.slowestAnswerNs))
        if abandoned > 0 {
            err("\(abandoned) request\(abandoned == 1 ? "" : "s") still in flight at the end of the run \(abandoned == 1 ? "was" : "were") abandoned (not counted).")
        } else {
            // Sequences are closed only on a server that still answers.
            await driver.closeSequences()
        }
        await driver.close()
        await transport.closeLoad()

        if let failure = csv?.failure { throw failure }
        if let failure = html?.failure { throw failure }
        if let failure = export?.failure {
            err("error: \(failure.description)")
            return .failure
        }
        return exitStatus(outcome.ending)
    }

    /// How long the end of a run waits for the requests still in flight: a couple of seconds, or
    /// twice the slowest answer seen, but never more than ten; what is still out is abandoned.
    static func drainTime(slowestAnswerNs: UInt64) -> TimeAmount {
        let twice = slowestAnswerNs > UInt64.max / 2 ? UInt64.max : slowestAnswerNs * 2
        return .nanoseconds(Int64(min(10_000_000_000, max(2_000_000_000, twice))))
    }

    /// The exit status of a run that ended this way, after its last line on stderr.
    private func exitStatus(_ ending: ProfileOutcome.Ending) -> ExitStatus {
        switch ending {
        case .completed:
            return .success
        case .unstable(let message):
            err(message)
            return .unstable
        case .failed(let failure):
            var line = "error: \(failure)"
            if options.sharedMemory != .none, case .request(.serverError(let text)) = failure, SharedMemoryLayout.isOutputSizeRefusal(text) {
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

    /// `-f` and `--html-report` are written after the run: refuse a destination that cannot be
    /// written before any load.
    func checkReportDestinations() throws {
        if let path = options.csvPath { try Self.checkDestination(path, flag: "-f") }
        if let path = options.htmlReportPath { try Self.checkDestination(path, flag: "--html-report") }
    }

    private static func checkDestination(_ path: String, flag: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError("\(flag) \(path): the directory \(directory) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw RunError("\(flag) \(path): the directory \(directory) is not writable")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw RunError("\(flag) \(path): is a directory; name a file") }
            guard FileManager.default.isWritableFile(atPath: path) else {
                throw RunError("\(flag) \(path): the file exists and is not writable")
            }
        }
    }

    /// Refuses an ID range too small for the sequences the run keeps live at its largest level,
    /// before anything is printed or sent (an open concurrency range is checked level by level).
    private func checkSequenceIDs(_ sequences: SequenceSource) throws {
        let live: Int
        switch options.loadMode {
        case .concurrency:
            let range = options.concurrencyRange
            live = range.isOpenEnded ? range.start : max(range.start, range.end)
        case .requestRate, .requestIntervals, .fixedSchedule:
            live = options.sequences.concurrentSequences
        }
        do {
            try sequences.check(liveSequences: live)
        } catch {
            throw RunError(error.description)
        }
    }

    /// The driver of the run's load mode.
    private func makeDriver(loops: [EventLoop], requestCount: Int, isAsync: Bool, sequences: SequenceSource?, ranks: (any RankCoordination)?,
                            scheduleOffsetsNs: [UInt64]?,
                            makeFeed: (@Sendable (LoadCounters) -> any SendFeed)?,
                            makeSinks: @escaping SinkFactory, makeSlot: @escaping SlotFactory) -> any LoadDriver {
        let schedule: @Sendable (LoadLevel) -> SendSchedule
        switch options.loadMode {
        case .concurrency:
            return ConcurrencyDriver(loops: loops, requestCount: requestCount, sequences: sequences, makeSinks: makeSinks, makeFeed: makeFeed,
                                     makeSlot: makeSlot)
        case .requestRate(_, let distribution):
            schedule = { level in
                guard case .requestRate(let rate) = level else { preconditionFailure("a rate driver runs rates") }
                return SendSchedule(distribution == .poisson ? .poisson(requestsPerSecond: rate, seed: 0x9E1_55E0) : .constant(requestsPerSecond: rate))
            }
        case .requestIntervals(_, let gaps):
            schedule = { _ in SendSchedule(.intervals(nanoseconds: gaps)) }
        case .fixedSchedule:
            let offsets = scheduleOffsetsNs ?? []
            schedule = { _ in SendSchedule(.offsets(nanoseconds: offsets)) }
        }
        return RateDriver(loops: loops, requestCount: requestCount, isAsync: isAsync, maxInFlight: options.maxThreads,
                              spinLeadNs: options.spinBeforeSendUs * 1000, pairsRequestsWithSends: options.loadMode == .fixedSchedule,
                              rank: ranks is SplitLoad ? (mpiWorld!.rank, mpiWorld!.size) : (0, 1),
                              sequences: sequences, concurrentSequences: options.sequences.concurrentSequences,
                              serialSequences: options.sequences.serial, scheduleFor: schedule, makeSinks: makeSinks, makeSlot: makeSlot)
    }
}
