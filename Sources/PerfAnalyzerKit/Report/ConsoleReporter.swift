/// Prints a run's events in perf_analyzer's console layout: the report on `out`, warnings
/// and the lines about levels that ended without a result on `err`.
final class ConsoleReporter: RunEventConsumer, @unchecked Sendable {
    let report: ConsoleReport
    private let out: @Sendable (String) -> Void
    private let err: @Sendable (String) -> Void

    init(report: ConsoleReport, out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        self.report = report
        self.out = out
        self.err = err
    }

    func consume(_ event: RunEvent) {
        switch event {
        case .levelStarting(let level, let phase):
            // perf_analyzer names no level for an interval file's single schedule.
            if phase == .warmup || !report.context.isSingleLevel { out(level.header) }
        case .windowMeasured(let window):
            if report.context.verbosity > 0 { out(report.passLine(window)) }
        case .notice(let text):
            err(text)
        case .levelMeasured(let result):
            out(report.levelBlock(result))
        case .levelAbandoned(let level, let shortfall):
            err(report.shortfallLine(level, shortfall))
        case .runFinished(let outcome):
            if !outcome.levels.isEmpty { out(report.summary(outcome.levels)) }
        }
    }
}
