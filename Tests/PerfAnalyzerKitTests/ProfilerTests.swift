import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import PerfAnalyzerKit

/// A load driver that plays a script: each window of a level has the requests and latency the
/// script gives, so the profiler's decisions are tested without a network.
private final class ScriptedDriver: LoadDriver, @unchecked Sendable {
    /// Requests and latency (µs) of window `index` (0-based) at `level`.
    typealias Script = @Sendable (LoadLevel, Int) -> (requests: Int, latencyUs: UInt64)

    private struct State {
        var level: LoadLevel?
        var window = -1
        var clockNs: UInt64 = 1_000_000_000
        var completed = 0
        var prepared: [LoadLevel] = []
        var decisions: [Bool] = []
        /// Completion counts the profiler waited for, and whether it did in the current window.
        var waitTargets: [Int] = []
        var waitedThisWindow = false
        var readsSinceCut = 0
    }

    private let script: Script
    private let state = NIOLockedValueBox(State())
    /// Requests out at any time; a window the script leaves empty gets one slow request once
    /// the profiler has waited for it (a model slower than a window).
    private let inFlight: Int

    init(inFlight: Int = 0, _ script: @escaping Script) {
        self.inFlight = inFlight
        self.script = script
    }

    var waitTargets: [Int] { state.withLockedValue { $0.waitTargets } }

    var prepared: [LoadLevel] { state.withLockedValue { $0.prepared } }
    var decisions: [Bool] { state.withLockedValue { $0.decisions } }
    func decideWindow(measured: Bool) async { state.withLockedValue { $0.decisions.append(measured) } }
    /// The profiler reads the count once as a window starts and again as it ends: the window's
    /// requests have completed by the second read.
    var completedCount: Int {
        state.withLockedValue { state in
            defer { state.readsSinceCut += 1 }
            guard let level = state.level, state.window >= 0, state.readsSinceCut > 0 else { return state.completed }
            return state.completed + script(level, state.window).requests
        }
    }
    var hasFailed: Bool { false }
    func waitForCompletions(reaching target: Int, stop: @Sendable () -> Bool) async {
        state.withLockedValue {
            $0.waitTargets.append(target)
            $0.waitedThisWindow = true
        }
    }
    func setSendBudget(_ count: Int?) {}
    func prepare(_ level: LoadLevel) async throws { state.withLockedValue { $0.prepared.append(level) } }
    func start(_ level: LoadLevel) { state.withLockedValue { $0.level = level; $0.window = 0 } }
    func quiesce(timeout: TimeAmount) async -> Int { 0 }
    var slowestAnswerNs: UInt64 { 0 }
    func watchRequests(limitMs: Int) {}
    func requestsInFlight() async -> Int { inFlight }
    func closeSequences() async {}
    func close() async {}

    /// Windows last one second each on the script's clock.
    func cutWindow() async throws -> WindowCut {
        state.withLockedValue { state in
            var window = ClientWindow(startNs: state.clockNs, endNs: state.clockNs + 1_000_000_000)
            state.clockNs += 1_000_000_000
            guard let level = state.level, state.window >= 0 else { return WindowCut(client: window, exported: []) }
            var figures = script(level, state.window)
            state.window += 1
            if figures.requests == 0, state.waitedThisWindow { figures = (requests: 1, latencyUs: 3_000_000) }
            state.waitedThisWindow = false
            state.readsSinceCut = 0
            for _ in 0..<figures.requests {
                window.recordSuccess(latencyNs: figures.latencyUs * 1000, sendNs: 0, receiveNs: 0, batchSize: 1)
            }
            state.completed += figures.requests
            return WindowCut(client: window, exported: [])
        }
    }
}

/// Collects the events of a run, in order.
private final class EventLog: @unchecked Sendable {
    private let events = NIOLockedValueBox<[RunEvent]>([])
    func append(_ event: RunEvent) { events.withLockedValue { $0.append(event) } }
    var all: [RunEvent] { events.withLockedValue { $0 } }

    /// A word per event, for comparing sequences.
    var words: [String] {
        all.map { event in
            switch event {
            case .levelStarting(let level, let phase): return "start \(level.value)\(phase == .warmup ? " warmup" : "")"
            case .windowMeasured(let window): return "window \(window.trial)"
            case .notice: return "notice"
            case .levelMeasured(let result): return "measured \(result.level.value)"
            case .levelAbandoned(let level, let shortfall): return "abandoned \(level.value) \(shortfall)"
            case .runFinished: return "finished"
            }
        }
    }
}

@Suite("Profiler with a scripted driver")
struct ProfilerTests {
    private func profile(_ arguments: [String], script: @escaping ScriptedDriver.Script) async throws -> (ProfileOutcome, EventLog, ScriptedDriver) {
        try await profile(arguments, driver: ScriptedDriver(script))
    }

    private func profile(_ arguments: [String], driver: ScriptedDriver) async throws -> (ProfileOutcome, EventLog, ScriptedDriver) {
        let options = try PerfAnalyzerCommand.parse(["-m", "m", "-p", "1"] + arguments).resolve()
        let context = RunContext(options: options, isAsync: false, serverStatistics: false)
        let log = EventLog()
        let model = ModelDescription(name: "m", version: "1", platform: "", maxBatchSize: 0, inputs: [], outputs: [])
        let profiler = Profiler(settings: Profiler.Settings(context: context), driver: driver, model: model, modelVersion: "",
                                statistics: nil, interrupted: { false }, emit: log.append)
        return (await profiler.run(), log, driver)
    }

    @Test("three windows within -s: the level is measured, merged over them, and the events come in order")
    func stableLevel() async throws {
        let (outcome, log, driver) = try await profile(["--concurrency-range", "2"]) { _, window in
            (requests: [50, 100, 102, 101][min(window, 3)], latencyUs: 1000)
        }
        // Each window is reported until the level is stable; the one after the last is not.
        #expect(driver.decisions == [true, true, true, true, false])
        #expect(outcome.ending == .completed)
        #expect(outcome.levels.count == 1)
        #expect(outcome.levels[0].client.requestCount == 100 + 102 + 101)
        #expect(log.words == ["start 2", "window 1", "window 2", "window 3", "window 4", "measured 2", "finished"])
        // The spread stability waits on is known from the third window on.
        var spreads: [Double?] = []
        for case .windowMeasured(let window) in log.all {
            let spread: Double? = window.spread?.throughput
            spreads.append(spread)
        }
        #expect(spreads.count == 4)
        #expect(spreads.prefix(2).allSatisfy { $0 == nil })
        #expect(abs(((spreads.last ?? nil) ?? 0) - 0.02) < 1e-9)
    }

    @Test("the client's CPU time is summed over the reported windows only, and divided by their requests")
    func clientCPU() async throws {
        let options = try PerfAnalyzerCommand.parse(["-m", "m", "-p", "1", "--concurrency-range", "2"]).resolve()
        let context = RunContext(options: options, isAsync: false, serverStatistics: false)
        let model = ModelDescription(name: "m", version: "1", platform: "", maxBatchSize: 0, inputs: [], outputs: [])
        // The clock moves 1, 2, 3, 4 ms between its readings: at the level's start, then at each cut.
        let readings = NIOLockedValueBox<UInt64>(0)
        let clock: @Sendable () -> UInt64 = {
            readings.withLockedValue { count in
                defer { count += 1 }
                return count * (count + 1) / 2 * 1_000_000
            }
        }
        let driver = ScriptedDriver { _, window in (requests: [50, 100, 102, 101][min(window, 3)], latencyUs: 1000) }
        let profiler = Profiler(settings: Profiler.Settings(context: context), driver: driver, model: model, modelVersion: "",
                                statistics: nil, cpuClock: clock, interrupted: { false }, emit: EventLog().append)
        let outcome = await profiler.run()
        // Four windows; the first (1 ms) is not among the three reported.
        #expect(outcome.levels.first?.clientCPUNs == 9_000_000)
        #expect(outcome.levels.first?.clientCPUPerRequestNs == 9_000_000 / 303)
        #expect(outcome.levels.first?.serverMetrics == nil)
    }

    @Test("a level's client health: its CPU over the reported windows' span and cores, its threads' wait for a core, the steal")
    func clientHealth() async throws {
        let options = try PerfAnalyzerCommand.parse(["-m", "m", "-p", "1", "--concurrency-range", "2"]).resolve()
        let context = RunContext(options: options, isAsync: false, serverStatistics: false)
        let model = ModelDescription(name: "m", version: "1", platform: "", maxBatchSize: 0, inputs: [], outputs: [])
        // 0.95 s of CPU per one-second window on one core; 20 of every 100 ticks stolen; 0.3 s of waiting for a core.
        let cpu = NIOLockedValueBox<UInt64>(0)
        let clock: @Sendable () -> UInt64 = {
            cpu.withLockedValue { used in
                defer { used += 950_000_000 }
                return used
            }
        }
        let reads = NIOLockedValueBox<UInt64>(0)
        let machine: @Sendable () -> MachineSample = {
            reads.withLockedValue { count in
                defer { count += 1 }
                return MachineSample(ticks: CPUTicks(total: count * 100, steal: count * 20), runQueueWaitNs: count * 300_000_000)
            }
        }
        let driver = ScriptedDriver { _, window in (requests: [50, 100, 102, 101][min(window, 3)], latencyUs: 1000) }
        let profiler = Profiler(settings: Profiler.Settings(context: context), driver: driver, model: model, modelVersion: "",
                                statistics: nil, cpuClock: clock, sampleMachine: machine, clientCores: 1, interrupted: { false },
                                emit: EventLog().append)
        let health = try #require(await profiler.run().levels.first?.clientHealth)
        #expect(abs((health.cpuUtilization ?? 0) - 0.95) < 1e-9)
        #expect(abs((health.stealFraction ?? 0) - 0.2) < 1e-9)
        #expect(abs((health.runQueueWaitFraction ?? 0) - 0.3) < 1e-9)
        #expect(health.sendLagP90Ns == nil)
        #expect(health.limits.map(\.name) == ["cpu", "starved", "steal"])
    }

    @Test("never three windows within -s after -r windows: unstable, the run's first level ends it")
    func unstable() async throws {
        let (outcome, log, _) = try await profile(["--concurrency-range", "1:3", "-r", "5"]) { _, window in
            (requests: window % 2 == 0 ? 100 : 200, latencyUs: 1000)
        }
        #expect(outcome.ending == .unstable("Failed to obtain stable measurement."))
        #expect(log.words == ["start 1"] + (1...5).map { "window \($0)" } + ["abandoned 1 unstable", "finished"])
    }

    @Test("-l: a linear sweep stops at the first level whose latency reaches the limit")
    func latencyLimit() async throws {
        let (outcome, log, driver) = try await profile(["--concurrency-range", "1:8", "-l", "3"]) { level, _ in
            guard case .concurrency(let count) = level else { return (0, 0) }
            return (requests: 100, latencyUs: UInt64(count) * 1000)
        }
        #expect(outcome.ending == .completed)
        #expect(outcome.levels.map(\.level) == [.concurrency(1), .concurrency(2)])
        #expect(driver.prepared == [.concurrency(1), .concurrency(2), .concurrency(3)])
        #expect(log.words.contains("abandoned 3 overLatencyLimit"))
    }

    @Test("--binary-search: both ends, then halves toward the highest level under -l")
    func binarySearch() async throws {
        let (outcome, _, driver) = try await profile(["--concurrency-range", "1:16", "-l", "7", "--binary-search"]) { level, _ in
            guard case .concurrency(let count) = level else { return (0, 0) }
            return (requests: 100, latencyUs: UInt64(count) * 1000)
        }
        #expect(driver.prepared == [1, 16, 8, 4, 6, 7].map { .concurrency($0) })
        #expect(outcome.levels.map(\.level) == [1, 4, 6].map { .concurrency($0) })
    }

    @Test("--request-count: one window of exactly that level, no stability wait")
    func requestCount() async throws {
        let (outcome, log, _) = try await profile(["--concurrency-range", "2", "--request-count", "77"]) { _, window in
            (requests: window == 0 ? 77 : 1, latencyUs: window == 0 ? 1000 : 99_000)
        }
        #expect(outcome.levels.first?.client.requestCount == 77)
        #expect(log.words == ["start 2", "window 1", "measured 2", "finished"])
    }

    @Test("a window that completes nothing ends the run with perf_analyzer's exit-3 reason")
    func emptyWindow() async throws {
        let (outcome, _, _) = try await profile(["--concurrency-range", "1"]) { _, window in
            (requests: window < 2 ? 100 : 0, latencyUs: 1000)
        }
        #expect(outcome.ending == .noValidRequests("No valid requests recorded within time interval. Please use a larger time window."))
    }

    @Test("a window that completes nothing while requests are out goes on until one completes")
    func windowWaitsForSlowAnswer() async throws {
        let driver = ScriptedDriver(inFlight: 1) { _, window in (requests: window == 1 ? 0 : 100, latencyUs: 1000) }
        let (outcome, log, _) = try await profile(["--concurrency-range", "1", "-r", "6"], driver: driver)
        #expect(outcome.ending == .completed)
        // Window 2 (index 1) was extended: the profiler waited for the next completion, not for a count.
        #expect(driver.waitTargets == [100 + 1])
        #expect(log.words.prefix(4) == ["start 1", "window 1", "window 2", "window 3"])
    }
}
