import Foundation
import Logging

/// Diagnostics that are not part of the report (connection events, window cuts), on stderr.
/// Quiet by default; `-v -v` shows them.
enum Diagnostics {
    static let logger = Logger(label: "perf-analyzer")

    /// Routes log records to stderr at the level the verbosity asks for. Call once, first.
    static func bootstrap(verbosity: Int) {
        let level: Logger.Level = verbosity > 1 ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
