import Foundation
import KServeProtocol

/// Drives load levels, takes measurement windows until they are stable, and collects
/// one result per level: perf_analyzer's inference profiler.
public final class Profiler: @unchecked Sendable {
    public struct Settings: Sendable {
        public var sweep: LevelSweep
        public var binarySearch: Bool
        public var measurementMode: PerfAnalyzerOptions.MeasurementMode
        public var windowMs: UInt64
        public var windowRequestCount: Int
        public var stabilityThreshold: Double
        public var maxTrials: Int
        public var percentile: Int?
        public var requestCount: Int
        public var warmupRequestCount: Int
        public var latencyLimitMs: UInt64
        public var isAsync: Bool
        /// How late this machine's timers wake (measured once before the load): what a level's
        /// send lag is judged against in its client health.
        public var timerFloor: TimerFloor?

        public init(context: RunContext) {
            sweep = LevelSweep(context.loadMode, concurrency: context.concurrencyRange)
            binarySearch = context.binarySearch
            measurementMode = context.measurementMode
            windowMs = context.windowMs
            windowRequestCount = context.windowRequestCount
            stabilityThreshold = context.stabilityPercentage / 100
            maxTrials = context.maxTrials
            percentile = context.percentile
            requestCount = context.requestCount
            warmupRequestCount = context.warmupRequestCount
            latencyLimitMs = context.latencyLimitMs
            isAsync = context.isAsync
            timerFloor = context.timerFloor
        }
    }

    /// Why a level was not reported.
    enum LevelEnding: Error {
        case shortfall(LevelShortfall)
        case failed(RunFailure)
        case noValidRequests
        case interrupted
    }

    private let settings: Settings
    private let driver: any LoadDriver
    private let statistics: (@Sendable () async throws -> StatisticsResponse)?
    private let selector: ServerStatsSelector
    private let emit: @Sendable (RunEvent) -> Void
    private let interrupted: @Sendable () -> Bool
    /// With `--collect-metrics`: reads the server's metrics while each level is measured.
    private let metrics: ServerMetricsCollector?
    /// The process's CPU time, ns; sampled at each window cut.
    private let cpuClock: @Sendable () -> UInt64
    /// The machine's CPU counters (steal) and the client's run-queue wait, sampled at each window cut.
    private let sampleMachine: @Sendable () -> MachineSample
    /// The cores the client may run on (its CPU use is a share of these).
    private let clientCores: Int
    /// `--enable-mpi`: the other ranks this profiler meets at each level start and window.
    private let ranks: (any RankCoordination)?
    /// Split load with `--profile-export-file`, on a rank other than 0: this rank's export
    /// entries of each window, sent to rank 0 with the window.
    private let exportRelay: ExportRelay?

    init(settings: Settings, driver: any LoadDriver, model: ModelDescription, modelVersion: String,
         statistics: (@Sendable () async throws -> StatisticsResponse)?,
         metrics: ServerMetricsCollector? = nil,
         cpuClock: @escaping @Sendable () -> UInt64 = CPUClock.processNs,
         sampleMachine: @escaping @Sendable () -> MachineSample = MachineSample.read,
         clientCores: Int = UsableCores.count,
         ranks: (any RankCoordination)? = nil,
         exportRelay: ExportRelay? = nil,
         interrupted: @escaping @Sendable () -> Bool,
         emit: @escaping @Sendable (RunEvent) -> Void) {
        self.settings = settings
        self.driver = driver
        self.statistics = statistics
        self.metrics = metrics
        self.cpuClock = cpuClock
        self.sampleMachine = sampleMachine
        self.clientCores = clientCores
        self.ranks = ranks
        self.exportRelay = exportRelay
        self.selector = ServerStatsSelector(modelName: model.name, modelVersion: modelVersion, composing: model.composingModels)
        self.emit = emit
        self.interrupted = interrupted
    }

    /// Runs the sweep (linear or binary), emitting events as it goes, and returns every level
    /// that was reported. The last event is `.runFinished`.
    public func run() async -> ProfileOutcome {
        var reported: [LevelResult] = []
        var ending = ProfileOutcome.Ending.completed
        func measure(_ level: LoadLevel) async -> Bool {
            switch await profileLevelCatching(level) {
            case .success(let result):
                reported.append(result)
                emit(.levelMeasured(result))
                return true
            case .failure(.shortfall(let shortfall)):
                emit(.levelAbandoned(level, shortfall))
                if shortfall == .unstable, reported.isEmpty { ending = .unstable("Failed to obtain stable measurement.") }
                return false
            case .failure(.failed(let failure)):
                ending = .failed(failure)
                return false
            case .failure(.noValidRequests):
                ending = .noValidRequests("No valid requests recorded within time interval. Please use a larger time window.")
                return false
            case .failure(.interrupted):
                ending = .interrupted
                return false
            }
        }
        let keepGoing = { ending == .completed }
        switch settings.sweep {
        case .concurrency(let range) where settings.binarySearch:
            await ConcurrencySearch.binary(range: range) { level in
                guard keepGoing() else { return false }
                return await measure(.concurrency(level))
            }
        case .concurrency(let range):
            var level: Int? = range.start
            // An open range grows until -l; never past the connections the process may open.
            let connectionLimit = range.isOpenEnded ? NumericBounds.connectionLimit() : Int.max
            while let current = level {
                let met = await measure(.concurrency(current))
                level = keepGoing() ? ConcurrencySearch.nextLinear(after: current, range: range, metThreshold: met) : nil
                if let next = level, next > connectionLimit {
                    emit(.notice("Stopping at concurrency \(current): concurrency \(next) would need more connections than this process may open (\(connectionLimit); raise the limit with ulimit -n)."))
                    level = nil
                }
            }
        case .requestRate(let range) where settings.binarySearch:
            await RateSearch.binary(range: range) { rate in
                guard keepGoing() else { return false }
                return await measure(.requestRate(rate))
            }
        case .requestRate(let range):
            var level: Double? = range.start
            var index = 0
            while let current = level {
                let met = await measure(.requestRate(current))
                index += 1
                level = keepGoing() ? RateSearch.nextLinear(index: index, range: range, metThreshold: met) : nil
            }
        case .single(let level):
            _ = await measure(level)
        }
        let outcome = ProfileOutcome(levels: reported, ending: ending)
        emit(.runFinished(outcome))
        return outcome
    }

    private func profileLevelCatching(_ level: LoadLevel) async -> Result<LevelResult, LevelEnding> {
        let result: Result<LevelResult, LevelEnding>
        do {
            result = .success(try await profileLevel(level))
        } catch let ending as LevelEnding {
            result = .failure(ending)
        } catch let error as RunError {
            result = .failure(.failed(.setup(error.description)))
        } catch {
            result = .failure(.failed(.setup("\(error)")))
        }
        // The metrics are read only while a level is measured, however it ended.
        await metrics?.stopLevel()
        return result
    }

    /// Measures one level: windows until stable (or `-r` trials), merged over the last three.
    func profileLevel(_ level: LoadLevel) async throws -> LevelResult {
        // An MPI rank drives its part of the level; reports name the whole level.
        let local = ranks?.share(of: level) ?? level
        do {
            if settings.warmupRequestCount > 0 {
                try await warmUp(level: local)
            }
            emit(.levelStarting(level, phase: .measurement))
            try await driver.prepare(local)
        } catch {
            // The other ranks wait for this one at the start: tell them it cannot come.
            try? await ranks?.startTogether(failure: "\(error)")
            throw error
        }
        do {
            try await ranks?.startTogether(failure: nil)
        } catch {
            throw meetingFailed(error)
        }
        // The first window starts as the new level starts, with fresh server counters.
        _ = try await driver.cutWindow()
        await driver.decideWindow(measured: true)
        var previousStats = try await fetchStatistics()
        var completedAtStart = driver.completedCount
        let requestCount = ranks?.share(ofCount: settings.requestCount) ?? settings.requestCount
        if settings.requestCount > 0 {
            driver.setSendBudget(requestCount)
        }
        let scheduleOrigin: UInt64?
        do {
            scheduleOrigin = try await ranks?.scheduleOrigin()
        } catch {
            throw meetingFailed(error)
        }
        driver.start(local, scheduleOriginNs: scheduleOrigin)
        metrics?.startLevel()
        var cpuAtCut = cpuClock()
        var machineAtCut = sampleMachine()

        var windows: [MeasuredParts] = []
        var figures: [WindowFigures] = []
        let trials = settings.requestCount > 0 ? 1 : settings.maxTrials
        var stable = false
        for trial in 1...trials {
            try await waitForWindowEnd(completedAtStart: completedAtStart, requestCount: requestCount)
            var ending: LevelEnding?
            do {
                try await ranks?.beforeCut()
            } catch {
                throw meetingFailed(error)
            }
            let cut = try await driver.cutWindow()
            let cpuNow = cpuClock()
            var cpuNs = cpuNow > cpuAtCut ? cpuNow - cpuAtCut : 0
            cpuAtCut = cpuNow
            let machineNow = sampleMachine()
            let machine = (start: machineAtCut, end: machineNow)
            machineAtCut = machineNow
            // Reads completed by now belong to this window, as perf_analyzer takes them.
            let harvest = metrics?.harvest()
            for notice in harvest?.notices ?? [] { emit(.notice(notice)) }
            var client = cut.client
            completedAtStart = driver.completedCount
            // A request's failure (a lost server among them) is the first thing to report.
            if let failure = client.firstFailure {
                ending = .failed(.request(failure))
            } else if let failure = harvest?.failure {
                ending = .failed(.setup(failure.description))
            } else if interrupted() {
                // Interrupted: no more questions to a server that may be the reason for the interrupt.
                ending = .interrupted
            }
            var server: ServerWindowStats?
            if ending == nil {
                do {
                    let endStats = try await fetchStatistics()
                    server = endStats.flatMap { selector.window(start: previousStats, end: $0) }
                    previousStats = endStats
                } catch {
                    ending = (error as? LevelEnding) ?? .failed(.setup((error as? RunError)?.description ?? "\(error)"))
                }
                if ending == nil, interrupted() { ending = .interrupted }
            }
            // Split load: the other ranks' export entries of this window, on rank 0.
            var relayed: [UInt8] = []
            if let ranks {
                // Split load: rank 0 judges the ranks' windows merged; a rank's ending ends the level.
                // This window is measured on every rank (each followed rank 0's verdict), so
                // every rank's export entries of it go with it; rank 0's went to its writer.
                let export = await exportRelay?.take(adding: cut.exported) ?? []
                do {
                    let combined = try await ranks.combine(WindowWire.Part(window: client, cpuNs: cpuNs, ending: ending.map(Self.words),
                                                                           export: ending == nil ? export : []))
                    client = combined.window
                    cpuNs = combined.cpuNs
                    if ranks.reports { relayed = combined.export }
                    if ending == nil, let words = combined.ending { ending = Self.ending(from: words) }
                } catch {
                    throw meetingFailed(error)
                }
            }
            if ending == nil, ranks?.reports ?? true, client.requestCount == 0 { ending = .noValidRequests }
            var levelGoesOn = false
            if ending == nil {
                let window = WindowFigures(throughput: client.throughput, latencyNs: stabilizingLatency(client))
                windows.append(MeasuredParts(client: client, server: server, cpuNs: cpuNs, machine: machine,
                                             metricsReads: harvest?.reads ?? []))
                figures.append(window)
                if ranks?.reports ?? true {
                    emit(.windowMeasured(MeasuredWindow(level: level, trial: trial, window: WindowCut(client: client, exported: cut.exported, relayed: relayed),
                                                        server: server, spread: Stability.spread(figures), stabilizingLatencyNs: window.latencyNs)))
                }
                Diagnostics.logger.debug("level \(level) window \(trial): \(client.requestCount) requests in \(client.durationNs / 1_000_000) ms")
                if windows.count > Stability.windowCount { windows.removeFirst() }
                stable = settings.requestCount > 0 || Stability.isStable(figures, threshold: settings.stabilityThreshold)
                // The window that began at this cut is measured only if the level goes on.
                levelGoesOn = !stable && trial < trials && !Stability.reachedLatencyLimit(figures, limitMs: settings.latencyLimitMs)
            }
            if let ranks {
                let verdict: WindowVerdict
                do {
                    verdict = try await ranks.agree(WindowVerdict(stable: stable, goesOn: levelGoesOn, ending: ending.map(Self.words)))
                } catch {
                    throw meetingFailed(error)
                }
                if ending == nil, let words = verdict.ending { ending = Self.ending(from: words) }
                stable = verdict.stable
                levelGoesOn = verdict.goesOn && ending == nil
            }
            if let ending { throw ending }
            await driver.decideWindow(measured: levelGoesOn)
            if !levelGoesOn { break }
        }
        let shortfall = finalShortfall(stable: &stable, figures: figures)
        if let ranks, !ranks.reports {
            // Split load, not rank 0: rank 0's outcome of the level is this rank's.
            let agreed: LevelShortfall?
            do { agreed = try await ranks.agreeOnLevel(nil) } catch { throw meetingFailed(error) }
            if let agreed { throw LevelEnding.shortfall(agreed) }
            return LevelResult(level: level, client: windows.last?.client ?? ClientWindow(startNs: 0), server: nil, percentile: settings.percentile,
                               serverMetrics: nil, clientCPUNs: 0)
        }
        var result: LevelResult?
        var reason = shortfall
        if reason == nil {
            var merged = windows[0].client
            var server = windows[0].server
            for window in windows.dropFirst() {
                merged.merge(window.client)
                if let part = window.server { server?.add(part) }
            }
            let serverMetrics = metrics.map { _ in ServerMetrics(merging: windows.flatMap(\.metricsReads)) }
            let clientCPUNs = windows.reduce(0) { $0 + $1.cpuNs }
            var measured = LevelResult(level: level, client: merged, server: server, percentile: settings.percentile,
                                       serverMetrics: serverMetrics, clientCPUNs: clientCPUNs)
            let machine = windows.first.flatMap { first in windows.last.map { (start: first.machine.start, end: $0.machine.end) } }
            // Split load: the CPU is every rank's, on cores this rank cannot count; the rest is this machine's.
            measured.clientHealth = ClientHealth(cpuNs: ranks is SplitLoad ? nil : clientCPUNs, spanNs: merged.durationNs,
                                                 cores: clientCores, machine: machine, schedule: merged.schedule,
                                                 timerFloor: settings.timerFloor)
            if settings.latencyLimitMs > 0, measured.stabilizingLatencyNs / 1_000_000 >= settings.latencyLimitMs {
                reason = .overLatencyLimit
            }
            result = measured
        }
        if let ranks, ranks is SplitLoad {
            do { _ = try await ranks.agreeOnLevel(reason) } catch { throw meetingFailed(error) }
        }
        if let reason { throw LevelEnding.shortfall(reason) }
        return result!
    }

    /// Why a level whose windows ended is not reported, if it is not.
    private func finalShortfall(stable: inout Bool, figures: [WindowFigures]) -> LevelShortfall? {
        if !stable, settings.isAsync, settings.requestCount == 0,
           Stability.isStable(figures, threshold: settings.stabilityThreshold, checkLatency: false) {
            emit(.notice("Warning: Request latency is not stabilizing. Please try lowering the request rate."))
            stable = true
        }
        if !stable {
            return Stability.reachedLatencyLimit(figures, limitMs: settings.latencyLimitMs) ? .overLatencyLimit : .unstable
        }
        return nil
    }

    /// How a level ends when the ranks could not meet: stopped (mpirun stops the other ranks
    /// when one ends), or an MPI error.
    private func meetingFailed(_ error: MPIError) -> LevelEnding {
        interrupted() ? .interrupted : .failed(.setup(error.description))
    }

    /// A level's ending as words another rank can read.
    private static func words(_ ending: LevelEnding) -> String {
        switch ending {
        case .failed(let failure): return failure.description
        case .interrupted: return interruptedWords
        case .noValidRequests: return "no valid requests recorded"
        case .shortfall(let shortfall): return "\(shortfall)"
        }
    }

    private static let interruptedWords = "interrupted"

    /// The ending of a level another rank ended.
    private static func ending(from words: String) -> LevelEnding {
        if words == interruptedWords || words.hasSuffix(": " + interruptedWords) { return .interrupted }
        return .failed(.setup(words))
    }

    private func warmUp(level: LoadLevel) async throws {
        var warmupLevel = level
        if case .concurrency(let count) = level {
            if count > settings.warmupRequestCount {
                emit(.notice("WARNING: The number of concurrent requests exceeds the warmup request count. Adjusting warmup concurrency to match the warmup request count."))
            }
            warmupLevel = .concurrency(min(count, settings.warmupRequestCount))
        }
        let target = driver.completedCount + settings.warmupRequestCount
        driver.setSendBudget(settings.warmupRequestCount)
        emit(.levelStarting(warmupLevel, phase: .warmup))
        try await driver.prepare(warmupLevel)
        driver.start(warmupLevel)
        await driver.waitForCompletions(reaching: target, stop: interrupted)
        let window = try await driver.cutWindow()
        if let failure = window.client.firstFailure { throw LevelEnding.failed(.request(failure)) }
        driver.setSendBudget(nil)
    }

    private func waitForWindowEnd(completedAtStart: Int, requestCount: Int) async throws {
        let deadline = MonotonicClock.now() + settings.windowMs * 1_000_000
        if settings.requestCount > 0 || settings.measurementMode == .countWindows {
            let wanted = settings.requestCount > 0 ? requestCount : (ranks?.share(ofCount: settings.windowRequestCount) ?? settings.windowRequestCount)
            await driver.waitForCompletions(reaching: completedAtStart + wanted, stop: interrupted)
            return
        }
        // Sleep in short steps so a failure or Ctrl-C ends the window early.
        while true {
            let now = MonotonicClock.now()
            if now >= deadline || driver.hasFailed || interrupted() { break }
            try await Task.sleep(nanoseconds: min(deadline - now, 50_000_000))
        }
        // Nothing completed while requests are out (answers slower than a window, or a server
        // that stopped answering): the window goes on until one ends, which the request
        // timeout bounds. With nothing out the window is empty, as perf_analyzer reports it.
        if driver.completedCount == completedAtStart, !driver.hasFailed, !interrupted(), await driver.requestsInFlight() > 0 {
            await driver.waitForCompletions(reaching: completedAtStart + 1, stop: interrupted)
        }
    }

    private func fetchStatistics() async throws -> StatisticsResponse? {
        guard let statistics else { return nil }
        return try await statistics()
    }

    private func stabilizingLatency(_ window: ClientWindow) -> UInt64 {
        settings.percentile.map { window.latencyPercentileNs($0) } ?? window.averageLatencyNs
    }
}

/// What the profiler keeps of one window of a level until the level is merged.
private struct MeasuredParts {
    var client: ClientWindow
    var server: ServerWindowStats?
    /// The client process's CPU time during the window.
    var cpuNs: UInt64
    /// The machine read at the window's start and end (steal, run-queue wait).
    var machine: (start: MachineSample, end: MachineSample)
    /// The server metrics read during the window.
    var metricsReads: [ServerMetricsRead]
}

/// C's `%g`: six significant digits, trailing zeros dropped (how perf_analyzer prints rates).
public func formatG(_ value: Double) -> String {
    String(format: "%g", value)
}
