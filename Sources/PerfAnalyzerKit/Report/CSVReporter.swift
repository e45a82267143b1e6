import Foundation

/// Writes `-f` once the run is over, from the levels it reported; a write that fails is kept
/// for the run to end with.
final class CSVReporter: RunEventConsumer, @unchecked Sendable {
    let report: CSVReport
    let path: String
    /// LLM runs: the token metrics' CSV, written beside the main one.
    let llm: LLMCSVReport?
    private(set) var failure: RunError?

    init(report: CSVReport, path: String, llm: LLMCSVReport? = nil) {
        self.report = report
        self.path = path
        self.llm = llm
    }

    func consume(_ event: RunEvent) {
        guard case .runFinished(let outcome) = event, !outcome.levels.isEmpty else { return }
        do {
            try report.write(outcome.levels, to: path)
            if let llm {
                try llm.document(outcome.levels).write(toFile: LLMCSVReport.path(besides: path), atomically: true, encoding: .utf8)
            }
        } catch {
            let reason = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
            failure = RunError("-f \(path): the CSV file could not be written: \(reason ?? error.localizedDescription)")
        }
    }
}
