import KServeProtocol
import NIOCore

/// Sends on a schedule: a request rate (constant or Poisson) or a list of intervals.
/// The schedule is split over one `RateLane` per event loop; each lane fires its own sends.
final class RateDriver: LoadEngine, LoadDriver, @unchecked Sendable {
    private let lanes: [RateLane]
    private let scheduleFor: @Sendable (LoadLevel) -> SendSchedule
    private let initialSlots: [Int]
    private let sequences: SequenceSource?

    /// Lead between setting a level and its first send, so every lane starts on time.
    static let startLeadNs: UInt64 = 2_000_000
    /// Most connections an asynchronous scheduled run opens.
    static let asyncSlotLimit = 1024

    /// - Parameters:
    ///   - isAsync: asynchronous: lanes open connections as sends need them; synchronous:
    ///     `maxInFlight` connections in all, one request each.
    ///   - concurrentSequences: sequences live at once (sequence models); the run has checked
    ///     the ID range holds them.
    ///   - spinLeadNs: how long before each send a lane wakes and polls until it is due.
    ///   - pairsRequestsWithSends: the k-th send of the schedule carries request k (`--fixed-schedule`,
    ///     where each request has its own time); otherwise each lane takes requests in turn.
    ///   - rank: `--mpi-split-load`: this process is rank `index` of `count` driving one schedule;
    ///     it fires sends index, index + count, ... (its lanes split those in turn), so the ranks'
    ///     sends together are the whole schedule, whatever number of lanes each rank has.
    init(loops: [EventLoop], requestCount: Int, isAsync: Bool, maxInFlight: Int, spinLeadNs: UInt64 = 0,
         pairsRequestsWithSends: Bool = false, rank: (index: Int, count: Int) = (0, 1), sequences: SequenceSource?, concurrentSequences: Int, serialSequences: Bool,
         scheduleFor: @escaping @Sendable (LoadLevel) -> SendSchedule, makeSinks: SinkFactory = { LoopSinks(window: $0) },
         makeSlot: @escaping SlotFactory) {
        // Each lane needs at least one sequence to send with.
        let laneLoops = sequences == nil ? loops : Array(loops.prefix(max(1, min(loops.count, concurrentSequences))))
        self.scheduleFor = scheduleFor
        self.sequences = sequences
        let count = laneLoops.count
        let counters = LoadCounters(loopCount: count)
        let perLaneLimit = isAsync ? max(1, min(Self.asyncSlotLimit, NumericBounds.connectionLimit()) / count) : 0
        var lanes: [RateLane] = []
        var initial: [Int] = []
        for (index, loop) in laneLoops.enumerated() {
            let fixed = maxInFlight / count + (index < maxInFlight % count ? 1 : 0)
            let laneSequences = concurrentSequences / count + (index < concurrentSequences % count ? 1 : 0)
            lanes.append(RateLane(loop: loop, laneIndex: rank.index + rank.count * index, laneCount: count * rank.count, counters: counters, requestCount: requestCount,
                                  requestStride: pairsRequestsWithSends ? count : 1,
                                  slotLimit: isAsync ? perLaneLimit : max(1, fixed), grows: isAsync, spinLeadNs: spinLeadNs,
                                  sequences: sequences, sequenceCount: laneSequences, serial: serialSequences))
            initial.append(isAsync ? 2 : max(1, fixed))
        }
        self.lanes = lanes
        initialSlots = initial
        super.init(loops: laneLoops, scheduled: true, counters: counters, makeSinks: makeSinks, makeSlot: makeSlot)
        for (index, lane) in lanes.enumerated() {
            lane.openSlot = { [weak self] in self?.open(on: index, lane: lane) }
        }
    }

    /// Opens one slot for `lane`, asked by the lane itself when it runs out of idle ones;
    /// a connection that fails ends the run.
    private func open(on share: Int, lane: RateLane) {
        connectSlot(on: share, lane: lane).whenFailure { error in
            self.loops[share].sinks.window.recordFailure("\(error)")
            self.counters.recordFailure()
        }
    }

    /// Makes and connects one slot of `lane`; runs on the lane's loop.
    private func connectSlot(on share: Int, lane: RateLane) -> EventLoopFuture<Void> {
        lane.noteOpening()
        let slot = addSlot(on: share, feed: lane)
        return slot.connect()
            .map { lane.slotOpened(slot) }
            .flatMapErrorThrowing { error in
                lane.slotFailedToOpen()
                throw error
            }
    }

    /// Opens each lane's first connections before any send is due.
    public func prepare(_ level: LoadLevel) async throws {
        guard slots.withLockedValue({ $0.isEmpty }) else { return }
        var connecting: [EventLoopFuture<Void>] = []
        for (index, lane) in lanes.enumerated() {
            for _ in 0..<initialSlots[index] {
                connecting.append(lane.loop.flatSubmit { self.connectSlot(on: index, lane: lane) })
            }
        }
        for future in connecting { try await future.get() }
    }

    /// Every lane follows the level's schedule from one common start a moment from now.
    public func start(_ level: LoadLevel) {
        start(level, scheduleOriginNs: nil)
    }

    /// Every lane follows the level's schedule from `scheduleOriginNs` (split load: the same
    /// instant on every rank, so their sends interleave), or from a moment from now.
    public func start(_ level: LoadLevel, scheduleOriginNs: UInt64?) {
        let schedule = scheduleFor(level)
        let startNs = scheduleOriginNs ?? MonotonicClock.now() + Self.startLeadNs
        for lane in lanes {
            lane.loop.execute { lane.start(schedule, at: startNs) }
        }
    }

    @discardableResult
    public func quiesce(timeout: TimeAmount = .seconds(10)) async -> Int {
        for lane in lanes {
            try? await lane.loop.submit { lane.stop() }.get()
        }
        return await waitForSlots(timeout: timeout)
    }

    public func closeSequences() async {
        guard sequences != nil, !hasFailed else { return }
        for lane in lanes {
            lane.loop.execute { lane.closeSequences() }
        }
        await waitUntilClosed(lanes.map { lane in (lane.loop, { lane.hasOpenSequence }) })
        await waitForSlots(timeout: .seconds(10))
    }
}
