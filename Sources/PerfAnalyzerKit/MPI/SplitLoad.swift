import KServeProtocol

/// `--enable-mpi --mpi-split-load`: every rank drives the same model as parts of one client.
/// A concurrency is divided among the ranks; a request rate's one combined schedule is
/// interleaved (rank r fires sends r, r+N, ...; see `RateDriver`), so the stream the server
/// sees keeps its spacing or its Poisson gaps. Every rank cuts its window at the same barrier;
/// rank 0 merges the ranks' windows (counts added, histograms merged), judges them, and the
/// other ranks follow its verdict. Rank 0 alone reports.
struct SplitLoad: RankCoordination {
    let world: MPIWorld

    var reports: Bool { world.isRoot }

    func share(of level: LoadLevel) -> LoadLevel {
        switch level {
        case .concurrency(let count): return .concurrency(share(ofCount: count))
        // The whole rate: the rate driver takes this rank's sends out of the one schedule.
        case .requestRate: return level
        }
    }

    func share(ofCount count: Int) -> Int {
        count / world.size + (world.rank < count % world.size ? 1 : 0)
    }

    func startTogether(failure: String?) async throws(MPIError) {
        try await AllRanksStable(world: world).startTogether(failure: failure)
    }

    /// Rank 0 picks the start on the wall clock, `originLeadNs` ahead (time for the broadcast;
    /// the level's first window, already begun, loses the lead, so it is short); each rank places
    /// it on its own monotonic clock.
    /// Started a barrier's exit apart, the ranks' copies of a 400/s schedule could be a whole
    /// interval out of step, and their sends would come in pairs instead of in turn. On one host
    /// the instant is exact; across hosts it is as close as their clocks agree. A rank that gets
    /// it late still keeps it: its lanes send what is overdue at once and are then in step.
    func scheduleOrigin() async throws(MPIError) -> UInt64? {
        let proposed = MonotonicClock.epochNanoseconds() &+ Self.originLeadNs
        let bytes = world.isRoot ? withUnsafeBytes(of: proposed.littleEndian) { Array($0) } : [UInt8](repeating: 0, count: 8)
        let root = try await world.broadcastFromRoot(bytes)
        guard root.count == 8 else { throw MPIError("--mpi-split-load: rank 0's schedule start was cut short") }
        let originWallNs = Int64(bitPattern: UInt64(littleEndian: root.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
        let wallNs = Int64(bitPattern: MonotonicClock.epochNanoseconds())
        let monotonicNs = Int64(bitPattern: MonotonicClock.now())
        return UInt64(max(0, monotonicNs + (originWallNs - wallNs)))
    }

    static let originLeadNs: UInt64 = 5_000_000

    func beforeCut() async throws(MPIError) {
        try await world.barrier()
    }

    func combine(_ part: WindowWire.Part) async throws(MPIError) -> WindowWire.Part {
        var part = part
        // MPI counts bytes in 32-bit integers, rank 0's sum of every rank's included.
        let limit = Int(Int32.max / 2) / world.size
        if part.export.count > limit {
            part.ending = part.ending ?? "--profile-export-file: this rank's requests of one window take \(part.export.count) bytes, more than one gather to rank 0 carries (\(limit)); use a shorter window (-p or --measurement-request-count)"
            part.export = []
        }
        guard let parts = try await world.gatherToRoot(WindowWire.encode(part)) else { return part }
        var merged = part
        merged.export = []
        for (rank, bytes) in parts.enumerated() where rank != world.rank {
            guard let theirs = WindowWire.decode(bytes) else {
                merged.ending = merged.ending ?? "MPI rank \(rank) sent a window this build cannot read (a different perf-analyzer?)"
                continue
            }
            merged.window.merge(theirs.window)
            merged.cpuNs &+= theirs.cpuNs
            // Rank 0's own entries went to its writer; the others' follow them in the window's experiment.
            if !theirs.export.isEmpty {
                if !merged.export.isEmpty { merged.export.append(UInt8(ascii: ",")) }
                merged.export += theirs.export
            }
            if merged.ending == nil, let ending = theirs.ending { merged.ending = "MPI rank \(rank): \(ending)" }
        }
        // Monotonic clocks of different hosts do not compare: the window spans rank 0's cuts,
        // which the barrier put at the same moments as everyone's.
        merged.window.startNs = part.window.startNs
        merged.window.endNs = part.window.endNs
        return merged
    }

    func agree(_ verdict: WindowVerdict) async throws(MPIError) -> WindowVerdict {
        var bytes: [UInt8] = [verdict.stable ? 1 : 0, verdict.goesOn ? 1 : 0]
        if let ending = verdict.ending { bytes.append(contentsOf: ending.utf8) }
        let root = try await world.broadcastFromRoot(bytes)
        guard root.count >= 2 else { throw MPIError("--mpi-split-load: rank 0's verdict was cut short") }
        return WindowVerdict(stable: root[0] == 1, goesOn: root[1] == 1,
                             ending: root.count > 2 ? String(decoding: root[2...], as: UTF8.self) : nil)
    }

    func agreeOnLevel(_ shortfall: LevelShortfall?) async throws(MPIError) -> LevelShortfall? {
        let code: UInt8 = switch shortfall {
        case nil: 0
        case .unstable: 1
        case .overLatencyLimit: 2
        }
        let root = try await world.broadcastFromRoot([code])
        return switch root.first {
        case 1: .unstable
        case 2: .overLatencyLimit
        default: nil
        }
    }
}
