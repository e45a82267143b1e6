/// Exit codes, as perf_analyzer uses them.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The first level never stabilized.
    case unstable = 2
    /// A measurement could not be taken as asked (e.g. no request completed in a window).
    case measurementError = 3
    /// Bad command line, unreachable server, failed requests.
    case failure = 99
    /// Stopped by SIGINT or SIGTERM after printing what was measured.
    case interrupted = 130
}

/// An error that ends the run before any load, with its one-line message.
public struct RunError: Error, CustomStringConvertible {
    public var description: String
    public var status: ExitStatus
    public init(_ description: String, status: ExitStatus = .failure) {
        self.description = description
        self.status = status
    }
}
