/// `--enable-mpi` as perf_analyzer runs it: one process per model, each measuring its own
/// level; the ranks start each level's load together, and a level goes on until every rank's
/// last windows are stable (each window's verdict is shared by an all-reduce). A rank that
/// reaches its trial limit or latency limit, or fails, ends the level on every rank.
struct AllRanksStable: RankCoordination {
    let world: MPIWorld

    var reports: Bool { true }

    func share(of level: LoadLevel) -> LoadLevel { level }

    func share(ofCount count: Int) -> Int { count }

    func startTogether(failure: String?) async throws(MPIError) {
        let anyFailed = try await world.allReduceMax([failure == nil ? 0 : 1])[0] == 1
        if anyFailed, failure == nil {
            throw MPIError("another MPI rank could not start its load (its own error line says why)")
        }
    }

    func scheduleOrigin() async throws(MPIError) -> UInt64? { nil }

    func beforeCut() async throws(MPIError) {}

    func combine(_ part: WindowWire.Part) async throws(MPIError) -> WindowWire.Part { part }

    func agree(_ verdict: WindowVerdict) async throws(MPIError) -> WindowVerdict {
        let endedOtherwise = !verdict.stable && !verdict.goesOn && verdict.ending == nil
        let all = try await world.allReduceMax([verdict.stable ? 0 : 1, endedOtherwise ? 1 : 0, verdict.ending == nil ? 0 : 1])
        let allStable = all[0] == 0
        var agreed = verdict
        agreed.goesOn = !allStable && all[1] == 0 && all[2] == 0
        if all[2] == 1, verdict.ending == nil {
            agreed.ending = "another MPI rank ended the level (its own error line says why)"
        }
        return agreed
    }

    func agreeOnLevel(_ shortfall: LevelShortfall?) async throws(MPIError) -> LevelShortfall? { shortfall }
}
