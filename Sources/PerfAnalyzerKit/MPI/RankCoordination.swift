/// What the profiler agrees on with the other ranks of an MPI run, at the few points where
/// they must meet: a level's start, each window's cut and its verdict, the level's outcome.
/// Every rank makes the same calls in the same order, failures included (a rank that fails
/// says so at the next meeting instead of leaving, so no rank waits for it forever).
protocol RankCoordination: Sendable {
    /// Whether this rank prints the report and writes the files.
    var reports: Bool { get }
    /// The part of `level` this rank drives.
    func share(of level: LoadLevel) -> LoadLevel
    /// This rank's part of a request count (`--request-count`, count windows).
    func share(ofCount count: Int) -> Int
    /// Called by every rank right before a level's load starts: returns once all are there,
    /// or throws the ending of a rank that could not start (`failure`: this rank's).
    func startTogether(failure: String?) async throws(MPIError)
    /// Called right before a level's load starts, after `startTogether`: split load returns the
    /// monotonic instant at which this rank starts its copy of the level's schedule, the same
    /// instant on every rank; `nil`: each rank starts its own a moment from now.
    func scheduleOrigin() async throws(MPIError) -> UInt64?
    /// Called right before each window's cut (split load: every rank cuts at the same moment).
    func beforeCut() async throws(MPIError)
    /// This rank's window and ending in, the window to judge out: split load merges every
    /// rank's on rank 0 (and names the first rank's ending there).
    func combine(_ part: WindowWire.Part) async throws(MPIError) -> WindowWire.Part
    /// This rank's verdict on the window in, the one every rank follows out.
    func agree(_ verdict: WindowVerdict) async throws(MPIError) -> WindowVerdict
    /// Split load: rank 0's outcome of the level, on every rank (`nil`: the level is reported).
    func agreeOnLevel(_ shortfall: LevelShortfall?) async throws(MPIError) -> LevelShortfall?
}

/// How a window left its level.
struct WindowVerdict: Sendable, Equatable {
    /// The last windows are stable (on this rank; after `agree`, on every rank).
    var stable: Bool
    /// The level measures another window.
    var goesOn: Bool
    /// Why the level ended early: a failure, an interrupt, no valid requests.
    var ending: String?
}
