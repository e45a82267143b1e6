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
        public var verbose: Bool
        public var isAsync: Bool

        public init(options: PerfAnalyzerOptions, isAsync: Bool) {
            sweep = LevelSweep(options.loadMode, concurrency: options.concurrencyRange)
            binarySearch = options.binarySearch
            measurementMode = options.measurementMode
            windowMs = options.measurementIntervalMs
            windowRequestCount = options.measurementRequestCount
            stabilityThreshold = options.stabilityPercentage / 100
            maxTrials = options.maxTrials
            percentile = options.percentile
            requestCount = options.requestCount
            warmupRequestCount = options.warmupRequestCount
            latencyLimitMs = options.latencyThresholdMs
            verbose = options.verbosity > 0
            self.isAsync = isAsync
        }
    }

    /// Why a level was not reported.
    enum LevelEnding: Error {
        case overLatencyLimit
        case unstable
        case failed(String)
        case noValidRequests
        case interrupted
    }

    private let settings: Settings
    private let driver: any LoadDriver
    private let statistics: (@Sendable () async throws -> StatisticsResponse)?
    private let selector: ServerStatsSelector
    private let print: @Sendable (String) -> Void
    private let printError: @Sendable (String) -> Void
    private let interrupted: @Sendable () -> Bool
    private let levelReported: @Sendable (LevelResult) -> Void

    init(settings: Settings, driver: any LoadDriver, model: ModelDescription, modelVersion: String,
                statistics: (@Sendable () async throws -> StatisticsResponse)?,
                print: @escaping @Sendable (String) -> Void, printError: @escaping @Sendable (String) -> Void,
                interrupted: @escaping @Sendable () -> Bool,
                levelReported: @escaping @Sendable (LevelResult) -> Void) {
        self.levelReported = levelReported
        self.settings = settings
        self.driver = driver
        self.statistics = statistics
        self.selector = ServerStatsSelector(modelName: model.name, modelVersion: modelVersion, composing: model.composingModels)
        self.print = print
        self.printError = printError
        self.interrupted = interrupted
    }

    /// Runs the sweep (linear or binary) and returns every level that was reported.
    public func run() async -> ProfileOutcome {
        var reported: [LevelResult] = []
        var ending = ProfileOutcome.Ending.completed
        func measure(_ level: LoadLevel) async -> Bool {
            switch await profileLevelCatching(level) {
            case .success(let result):
                reported.append(result)
                levelReported(result)
                return true
            case .failure(.overLatencyLimit):
                printError("Measured latency went over the set limit of \(settings.latencyLimitMs) msec. ")
                return false
            case .failure(.unstable):
                printError(unstableMessage(level: level))
                if reported.isEmpty { ending = .unstable("Failed to obtain stable measurement.") }
                return false
            case .failure(.failed(let message)):
                ending = .failed(message)
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
            while let current = level {
                let met = await measure(.concurrency(current))
                level = keepGoing() ? ConcurrencySearch.nextLinear(after: current, range: range, metThreshold: met) : nil
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
        return ProfileOutcome(levels: reported, ending: ending)
    }

    private func unstableMessage(level: LoadLevel) -> String {
        let hint = settings.measurementMode == .countWindows ? "--measurement-request-count" : "--measurement-interval"
        return "Failed to obtain stable measurement within \(settings.maxTrials) measurement windows for \(level.phrase). Please try to increase the \(hint)."
    }

    private func profileLevelCatching(_ level: LoadLevel) async -> Result<LevelResult, LevelEnding> {
        do {
            return .success(try await profileLevel(level))
        } catch let ending as LevelEnding {
            return .failure(ending)
        } catch {
            return .failure(.failed("\(error)"))
        }
    }

    /// Measures one level: windows until stable (or `-r` trials), merged over the last three.
    func profileLevel(_ level: LoadLevel) async throws -> LevelResult {
        if settings.warmupRequestCount > 0 {
            try await warmUp(level: level)
        }
        // perf_analyzer names no level for an interval file's single schedule.
        if case .single = settings.sweep {} else { print(level.header) }
        try await driver.prepare(level)
        // The first window starts as the new level starts, with fresh server counters.
        _ = try await driver.cutWindow()
        var previousStats = try await fetchStatistics()
        var completedAtStart = driver.completedCount
        if settings.requestCount > 0 {
            driver.setSendBudget(settings.requestCount)
        }
        driver.start(level)

        var windows: [(client: ClientWindow, server: ServerWindowStats?)] = []
        var figures: [WindowFigures] = []
        let trials = settings.requestCount > 0 ? 1 : settings.maxTrials
        var stable = false
        for trial in 1...trials {
            try await waitForWindowEnd(completedAtStart: completedAtStart)
            let client = try await driver.cutWindow()
            completedAtStart = driver.completedCount
            // A request's failure (a lost server among them) is the first thing to report.
            if let error = client.firstError { throw LevelEnding.failed(error) }
            let endStats = try await fetchStatistics()
            let server = endStats.flatMap { selector.window(start: previousStats, end: $0) }
            previousStats = endStats
            if interrupted() { throw LevelEnding.interrupted }
            guard client.requestCount > 0 else { throw LevelEnding.noValidRequests }
            let window = WindowFigures(throughput: client.throughput, latencyNs: stabilizingLatency(client))
            if settings.verbose { print(passLine(trial: trial, client: client)) }
            Diagnostics.logger.debug("level \(level) window \(trial): \(client.requestCount) requests in \(client.durationNs / 1_000_000) ms")
            windows.append((client, server))
            figures.append(window)
            if windows.count > Stability.windowCount { windows.removeFirst() }
            if settings.requestCount > 0 {
                stable = true
                break
            }
            if Stability.isStable(figures, threshold: settings.stabilityThreshold) {
                stable = true
                break
            }
            if Stability.reachedLatencyLimit(figures, limitMs: settings.latencyLimitMs) { break }
        }
        if !stable, settings.isAsync, settings.requestCount == 0,
           Stability.isStable(figures, threshold: settings.stabilityThreshold, checkLatency: false) {
            printError("Warning: Request latency is not stabilizing. Please try lowering the request rate.")
            stable = true
        }
        if !stable {
            if Stability.reachedLatencyLimit(figures, limitMs: settings.latencyLimitMs) { throw LevelEnding.overLatencyLimit }
            throw LevelEnding.unstable
        }
        var merged = windows[0].client
        var server = windows[0].server
        for window in windows.dropFirst() {
            merged.merge(window.client)
            if let part = window.server { server?.add(part) }
        }
        let result = LevelResult(level: level, client: merged, server: server, percentile: settings.percentile)
        if settings.latencyLimitMs > 0, result.stabilizingLatencyNs / 1_000_000 >= settings.latencyLimitMs {
            throw LevelEnding.overLatencyLimit
        }
        return result
    }

    private func warmUp(level: LoadLevel) async throws {
        var warmupLevel = level
        if case .concurrency(let count) = level {
            if count > settings.warmupRequestCount {
                printError("WARNING: The number of concurrent requests exceeds the warmup request count. Adjusting warmup concurrency to match the warmup request count.")
            }
            warmupLevel = .concurrency(min(count, settings.warmupRequestCount))
        }
        let target = driver.completedCount + settings.warmupRequestCount
        driver.setSendBudget(settings.warmupRequestCount)
        print(warmupLevel.header)
        try await driver.prepare(warmupLevel)
        driver.start(warmupLevel)
        await driver.waitForCompletions(reaching: target, stop: interrupted)
        let window = try await driver.cutWindow()
        if let error = window.firstError { throw LevelEnding.failed(error) }
        driver.setSendBudget(nil)
    }

    private func waitForWindowEnd(completedAtStart: Int) async throws {
        let deadline = MonotonicClock.now() + settings.windowMs * 1_000_000
        if settings.requestCount > 0 || settings.measurementMode == .countWindows {
            let wanted = settings.requestCount > 0 ? settings.requestCount : settings.windowRequestCount
            await driver.waitForCompletions(reaching: completedAtStart + wanted, stop: interrupted)
            return
        }
        // Sleep in short steps so a failure or Ctrl-C ends the window early.
        while true {
            let now = MonotonicClock.now()
            if now >= deadline || driver.hasFailed || interrupted() { return }
            try await Task.sleep(nanoseconds: min(deadline - now, 50_000_000))
        }
    }

    private func fetchStatistics() async throws -> StatisticsResponse? {
        guard let statistics else { return nil }
        return try await statistics()
    }

    private func stabilizingLatency(_ window: ClientWindow) -> UInt64 {
        settings.percentile.map { window.latencyPercentileNs($0) } ?? window.averageLatencyNs
    }

    private func passLine(trial: Int, client: ClientWindow) -> String {
        let throughput = formatG(client.throughput)
        if let percentile = settings.percentile {
            return "  Pass [\(trial)] throughput: \(throughput) infer/sec. p\(percentile) latency: \(client.latencyPercentileNs(percentile) / 1000) usec"
        }
        return "  Pass [\(trial)] throughput: \(throughput) infer/sec. Avg latency: \(client.averageLatencyNs / 1000) usec (std \(UInt64(client.latencyStandardDeviationUs)) usec). "
    }
}

/// C's `%g`: six significant digits, trailing zeros dropped (how perf_analyzer prints rates).
public func formatG(_ value: Double) -> String {
    String(format: "%g", value)
}
