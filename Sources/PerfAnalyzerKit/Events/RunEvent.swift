/// What a run tells its reporters, in the order it happens. The profiler emits these and
/// prints nothing; the console, CSV, profile export and progress line each consume them.
public enum RunEvent: Sendable {
    /// A level starts: its warm-up, or its measurement.
    case levelStarting(LoadLevel, phase: LevelPhase)
    /// A measurement window of the current level ended.
    case windowMeasured(MeasuredWindow)
    /// A warning for the user, in perf_analyzer's words where it has them.
    case notice(String)
    /// A level was measured and is reported.
    case levelMeasured(LevelResult)
    /// A level ended without a result; the sweep stops there.
    case levelAbandoned(LoadLevel, LevelShortfall)
    /// The run is over: every reported level, and why it ended.
    case runFinished(ProfileOutcome)
}

public enum LevelPhase: Sendable, Equatable {
    case warmup
    case measurement
}

/// Why a level has no result.
public enum LevelShortfall: Sendable, Equatable {
    /// Its latency reached `-l`.
    case overLatencyLimit
    /// `-r` windows passed without three that agree within `-s`.
    case unstable
}

/// One measurement window as the profiler judged it.
public struct MeasuredWindow: Sendable {
    public var level: LoadLevel
    /// 1 for the level's first window.
    public var trial: Int
    public var window: WindowCut
    public var server: ServerWindowStats?
    /// The largest relative spread (max / min - 1) of throughput and of latency over the last
    /// three windows: what stability waits on; nil until there are three.
    public var spread: (throughput: Double, latency: Double)?
    /// The latency stability is judged on (average or `--percentile`), ns.
    public var stabilizingLatencyNs: UInt64
    /// Periodic concurrency: one window over the whole run, which the export writes with
    /// perf_analyzer's boundaries for it, 0 and the largest 64-bit value.
    public var spansWholeRun = false

    public var client: ClientWindow { window.client }
}
