import Foundation

/// `--html-report FILE`: keeps each level's windows as they are measured and, once the run is
/// over, writes the page of the levels it reported. A write that fails is kept for the run to
/// end with, as the CSV's is.
final class HTMLReporter: RunEventConsumer, @unchecked Sendable {
    let context: RunContext
    let path: String
    private var windows: [(level: LoadLevel, windows: [MeasuredWindow])] = []
    private(set) var failure: RunError?

    init(context: RunContext, path: String) {
        self.context = context
        self.path = path
    }

    func consume(_ event: RunEvent) {
        switch event {
        case .levelStarting(let level, .measurement):
            windows.append((level, []))
        case .windowMeasured(var window):
            guard !windows.isEmpty else { return }
            // The page needs the window's figures, not its requests: keeping the export's
            // batches (or the relayed entries) would hold every exported request until the end.
            window.window.exported = []
            window.window.relayed = []
            windows[windows.count - 1].windows.append(window)
        case .runFinished(let outcome):
            guard !outcome.levels.isEmpty else { return }
            let model = HTMLReportModel(context: context, levels: outcome.levels, windows: windows)
            do {
                try HTMLPage.write(model, to: path)
            } catch {
                failure = RunError("--html-report \(path): \(error.description)")
            }
        case .levelStarting(_, .warmup), .notice, .levelMeasured, .levelAbandoned:
            break
        }
    }
}
