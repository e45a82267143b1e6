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
    ///   - concurrentSequences: sequences live at once (sequence models).
    init(loops: [EventLoop], requestCount: Int, isAsync: Bool, maxInFlight: Int,
         sequences: SequenceSource?, concurrentSequences: Int, serialSequences: Bool,
         scheduleFor: @escaping @Sendable (LoadLevel) -> SendSchedule, makeSlot: @escaping SlotFactory) throws {
        // Each lane needs at least one sequence to send with.
        let laneLoops = sequences == nil ? loops : Array(loops.prefix(max(1, min(loops.count, concurrentSequences))))
        if let sequences {
            do {
                try sequences.check(liveSequences: concurrentSequences)
            } catch {
                throw RunError(error.description)
            }
        }
        self.scheduleFor = scheduleFor
        self.sequences = sequences
        let counters = LoadCounters()
        let count = laneLoops.count
        let perLaneLimit = isAsync ? max(1, Self.asyncSlotLimit / count) : 0
        var lanes: [RateLane] = []
        var initial: [Int] = []
        for (index, loop) in laneLoops.enumerated() {
            let fixed = maxInFlight / count + (index < maxInFlight % count ? 1 : 0)
            let laneSequences = concurrentSequences / count + (index < concurrentSequences % count ? 1 : 0)
            lanes.append(RateLane(loop: loop, laneIndex: index, laneCount: count, counters: counters, requestCount: requestCount,
                                  slotLimit: isAsync ? perLaneLimit : max(1, fixed), grows: isAsync,
                                  sequences: sequences, sequenceCount: laneSequences, serial: serialSequences))
            initial.append(isAsync ? 2 : max(1, fixed))
        }
        self.lanes = lanes
        initialSlots = initial
        super.init(loops: laneLoops, scheduled: true, counters: counters, makeSlot: makeSlot)
        for (index, lane) in lanes.enumerated() {
            lane.openSlot = { [weak self] in self?.open(on: index, lane: lane) }
        }
    }

    /// Opens one slot for `lane`, asked by the lane itself when it runs out of idle ones.
    private func open(on share: Int, lane: RateLane) {
        lane.noteOpening()
        let slot = addSlot(on: share, feed: lane)
        slot.connect().whenComplete { result in
            switch result {
            case .success:
                lane.slotOpened(slot)
            case .failure(let error):
                lane.slotFailedToOpen()
                let recorder = self.loops[share].recorder
                recorder.recordFailure("\(error)")
                self.counters.recordFailure()
            }
        }
    }

    /// Opens each lane's first connections before any send is due.
    public func prepare(_ level: LoadLevel) async throws {
        guard slots.withLockedValue({ $0.isEmpty }) else { return }
        var connecting: [EventLoopFuture<Void>] = []
        for (index, lane) in lanes.enumerated() {
            for _ in 0..<initialSlots[index] {
                let slot = addSlot(on: index, feed: lane)
                connecting.append(lane.loop.flatSubmit {
                    lane.noteOpening()
                    return slot.connect().map { lane.slotOpened(slot) }
                })
            }
        }
        for future in connecting { try await future.get() }
    }

    /// Every lane follows the level's schedule from one common start a moment from now.
    public func start(_ level: LoadLevel) {
        let schedule = scheduleFor(level)
        let startNs = MonotonicClock.now() + Self.startLeadNs
        for lane in lanes {
            lane.loop.execute { lane.start(schedule, at: startNs) }
        }
    }

    public func quiesce(timeout: TimeAmount = .seconds(10)) async {
        for lane in lanes {
            try? await lane.loop.submit { lane.stop() }.get()
        }
        await waitForSlots(timeout: timeout)
    }

    public func closeSequences() async {
        guard sequences != nil, !hasFailed else { return }
        for lane in lanes {
            lane.loop.execute { lane.closeSequences() }
        }
        let deadline = MonotonicClock.now() + 10_000_000_000
        for lane in lanes {
            while MonotonicClock.now() < deadline, !hasFailed,
                  (try? await lane.loop.submit({ lane.hasOpenSequence }).get()) == true {
                try? await Task.sleep(nanoseconds: 5_000_000)
            }
        }
        await waitForSlots(timeout: .seconds(10))
    }
}
