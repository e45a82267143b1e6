import NIOCore

/// A `--periodic-concurrency-range` run: no windows, no stability, no console levels or CSV
/// (as in perf_analyzer); its record is the profile export, one experiment holding every request.
enum PeriodicConcurrencyRun {
    /// Runs the schedule and writes the export; the exit status says how it went.
    static func run(settings: PeriodicConcurrency, loops: [EventLoop], requestCount: Int, makeSlot: @escaping SlotFactory,
                    export: ProfileExportWriter, requestTimeoutMs: Int, interrupted: @escaping @Sendable () -> Bool,
                    err: @Sendable (String) -> Void) async throws -> ExitStatus {
        let tracker = PeriodTracker(settings: settings)
        let driver = PeriodicConcurrencyDriver(
            loops: loops, requestCount: requestCount, settings: settings, tracker: tracker,
            makeSinks: { LoopSinks(window: $0, export: ExportRecorder(spool: export), periods: PeriodCounter(period: settings.requestPeriod, tracker: tracker)) },
            makeSlot: makeSlot)
        // perf_analyzer writes the run as one experiment at concurrency 1 whose window spans all time.
        let level = LoadLevel.concurrency(1)
        export.consume(.levelStarting(level, phase: .measurement))
        await driver.decideWindow(measured: true)
        driver.watchRequests(limitMs: requestTimeoutMs)
        await driver.run(stop: { interrupted() || export.hasFailed })
        let cut = try await driver.cutWindow()
        export.consume(.windowMeasured(MeasuredWindow(level: level, trial: 1, window: cut, server: nil, spread: nil,
                                                      stabilizingLatencyNs: 0, spansWholeRun: true)))
        let ending: ProfileOutcome.Ending
        if let failure = cut.client.firstFailure {
            ending = .failed(.request(failure))
        } else if let failure = tracker.failure {
            ending = .failed(.setup(failure))
        } else if interrupted() {
            ending = .interrupted
        } else {
            ending = .completed
        }
        export.consume(.runFinished(ProfileOutcome(levels: [], ending: ending)))
        let abandoned = await driver.quiesce(timeout: PerfAnalyzerRun.drainTime(slowestAnswerNs: driver.slowestAnswerNs))
        if abandoned > 0 { err("\(abandoned) request\(abandoned == 1 ? "" : "s") still in flight at the end of the run \(abandoned == 1 ? "was" : "were") abandoned.") }
        await driver.close()
        if let failure = export.failure {
            err("error: \(failure.description)")
            return .failure
        }
        switch ending {
        case .completed: return .success
        case .interrupted:
            err("Interrupted: stopped after \(cut.client.requestCount) of \(settings.end) requests completed.")
            return .interrupted
        case .failed(let failure):
            err("error: \(failure)")
            return .failure
        case .unstable, .noValidRequests:
            return .failure
        }
    }
}
