import KServeProtocol
import NIOCore

/// One event loop's share of a scheduled load (request rate or intervals): every
/// `laneCount`-th send of the schedule, fired by a timer at its intended time on the
/// monotonic clock, whatever happened to the sends before it. A send that finds no idle
/// slot waits and goes out, late, as soon as one is free: the sends due and not yet sent are
/// the schedule's offsets up to now, taken from the schedule one by one as slots free up, so
/// a rate the server cannot follow is sent as fast as it answers in constant memory. The lane opens another
/// connection when it runs out of idle ones (asynchronous mode) or keeps a fixed number
/// (synchronous mode, one request per connection as perf_analyzer's threads do).
///
/// Confined to `loop`: the slots of the loop ask it for work there.
final class RateLane: SendFeed, NIOScheduledCallbackHandler, @unchecked Sendable {
    let loop: EventLoop
    private let laneIndex: Int
    private let laneCount: Int
    private let counters: LoadCounters
    private let requestCount: Int
    /// How far the request cursor moves per send: 1, or the lane count when send k must carry request k.
    private let requestStride: Int
    @exclusivity(unchecked) private var cursor: Int

    // Slots
    private var slots: [SlotCore] = []
    @exclusivity(unchecked) private var parked: [SlotCore] = []
    private var connecting = 0
    /// Most slots the lane may open; it opens more only up to this (and only when asynchronous).
    private let slotLimit: Int
    private let grows: Bool
    /// Opens one more slot on this lane; set by the driver.
    var openSlot: (() -> Void)?

    // Schedule
    @exclusivity(unchecked) private var offsets: SendSchedule.Offsets?
    private var startNs: UInt64 = 0
    /// The lane's oldest send not yet handed to a slot; due once the clock passes it.
    @exclusivity(unchecked) private var nextIntendedNs = UInt64.max
    @exclusivity(unchecked) private var timer: NIOScheduledCallback?
    /// The deadline of `timer`. A callback NIO had already taken to run when `stop()` cancelled
    /// its timer still runs; it fires before this deadline, which tells it apart from the
    /// current timer's (NIO fires at or after the deadline, on the same monotonic clock).
    @exclusivity(unchecked) private var armedDeadlineNs: UInt64 = .max
    /// How long before a send the lane wakes and polls until it is due. A timer alone wakes
    /// the thread tens of µs late on a typical VM (and hundreds at the tail). NIO runs every
    /// due task before it polls its sockets, so while the lane polls the loop reads nothing:
    /// a response arriving then is read, and timed, up to this long late.
    private let spinLeadNs: UInt64
    @exclusivity(unchecked) private var running = false

    // Sequences: this lane's share of them.
    private let source: SequenceSource?
    private var statuses: [SequenceStatus]
    private var statusCursor = 0
    private let serial: Bool
    private var closing = false

    init(loop: EventLoop, laneIndex: Int, laneCount: Int, counters: LoadCounters, requestCount: Int, requestStride: Int = 1,
         slotLimit: Int, grows: Bool, spinLeadNs: UInt64, sequences: SequenceSource?, sequenceCount: Int, serial: Bool) {
        self.loop = loop
        self.laneIndex = laneIndex
        self.laneCount = laneCount
        self.counters = counters
        self.requestCount = requestCount
        self.requestStride = requestStride
        cursor = laneIndex % requestCount
        self.slotLimit = slotLimit
        self.grows = grows
        self.spinLeadNs = spinLeadNs
        source = sequences
        statuses = Array(repeating: SequenceStatus(), count: sequences == nil ? 0 : sequenceCount)
        self.serial = serial
    }

    /// While sends are due and no slot takes them, the timer checks again this often (to
    /// open connections as an asynchronous lane does), rather than once per overdue send.
    private static let backlogCheckNs: UInt64 = 1_000_000

    @inline(__always)
    private func hasDue(at now: UInt64) -> Bool { running && nextIntendedNs <= now }

    // MARK: Slots

    /// A slot of this lane finished connecting.
    func slotOpened(_ slot: SlotCore) {
        connecting -= 1
        slots.append(slot)
        slot.activate()
    }

    func slotFailedToOpen() {
        connecting -= 1
    }

    func noteOpening() {
        connecting += 1
    }

    /// Makes every slot of the lane active (they park until a send is due).
    func activateSlots() {
        for slot in slots { slot.activate() }
    }

    private func park(_ slot: SlotCore) {
        guard !slot.isParked else { return }
        slot.isParked = true
        parked.append(slot)
    }

    /// Hands due sends to idle slots, and opens a connection when none is idle.
    private func dispatch(now: UInt64) {
        while hasDue(at: now) || closing, let slot = parked.popLast() {
            slot.isParked = false
            slot.resume()
            // A slot that parks again at once found nothing it may send (a sequence is busy).
            if slot.isParked { break }
        }
        if grows, running, parked.isEmpty, connecting == 0, slots.count < slotLimit, let openSlot {
            // Keep one connection spare, so the next due send finds it ready.
            openSlot()
        }
    }

    // MARK: Schedule

    /// Follows `schedule` from `startNs`; sends still queued from an earlier level are dropped.
    func start(_ schedule: SendSchedule, at startNs: UInt64) {
        stop()
        closing = false
        self.startNs = startNs
        offsets = schedule.makeIterator()
        advance(first: true)
        running = true
        armTimer(now: MonotonicClock.now())
        activateSlots()
    }

    /// Stops the schedule; requests in flight carry on.
    func stop() {
        running = false
        timer?.cancel()
        timer = nil
        armedDeadlineNs = .max
    }

    /// This lane's next intended time: every `laneCount`-th offset, starting at `laneIndex`.
    private func advance(first: Bool) {
        guard var iterator = offsets else { return }
        for _ in 0..<(first ? laneIndex : laneCount - 1) { _ = iterator.next() }
        nextIntendedNs = startNs + iterator.next()
        offsets = iterator
    }

    /// Arms the timer for the next send, or, while sends are overdue, for the next backlog check.
    private func armTimer(now: UInt64) {
        if nextIntendedNs <= now {
            arm(at: now + Self.backlogCheckNs)
            return
        }
        let wakeNs = nextIntendedNs > spinLeadNs ? nextIntendedNs - spinLeadNs : 0
        arm(at: wakeNs)
    }

    private func arm(at deadlineNs: UInt64) {
        armedDeadlineNs = deadlineNs
        timer = try? loop.assumeIsolatedUnsafeUnchecked().scheduleCallback(at: .uptimeNanoseconds(deadlineNs), handler: self)
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        let now = MonotonicClock.now()
        // A stale callback (its timer was cancelled as it was about to run) must not start a
        // second chain of timers: the two would poll each other's sends and starve the loop's I/O.
        guard running, now >= armedDeadlineNs else { return }
        timer = nil
        if now < nextIntendedNs {
            if nextIntendedNs - now <= spinLeadNs {
                // Woken ahead of the send to spin: poll again through the loop (its other due tasks run meanwhile).
                arm(at: 0)
            } else {
                // A backlog check that found the backlog gone: sleep until the next send.
                armTimer(now: now)
            }
            return
        }
        dispatch(now: now)
        armTimer(now: now)
    }

    // MARK: SendFeed

    func next(for slot: SlotCore) -> SendTicket? {
        if closing { return closingTicket(for: slot) }
        guard hasDue(at: MonotonicClock.now()) else {
            park(slot)
            return nil
        }
        var sequenceIndex = 0
        if source != nil {
            guard let index = availableSequence() else {
                park(slot)
                return nil
            }
            sequenceIndex = index
        }
        guard counters.claimSend() else {
            stop()
            park(slot)
            return nil
        }
        let intendedNs = nextIntendedNs
        advance(first: false)
        if let source {
            let step = statuses[sequenceIndex].nextMark(source: source)
            return SendTicket(request: step.request, intendedNs: intendedNs, sequence: step.mark, sequenceIndex: sequenceIndex)
        }
        let request = cursor
        cursor += requestStride
        if cursor >= requestCount { cursor %= requestCount }
        return SendTicket(request: request, intendedNs: intendedNs)
    }

    func ended(_ ticket: SendTicket, succeeded: Bool) {
        guard let source, let mark = ticket.sequence else { return }
        statuses[ticket.sequenceIndex].ended(mark, source: source)
        // The sequence may take its next request now.
        let now = MonotonicClock.now()
        if hasDue(at: now) || closing { dispatch(now: now) }
    }

    /// The next sequence, round-robin, that may send now.
    private func availableSequence() -> Int? {
        for step in 0..<statuses.count {
            let index = (statusCursor + step) % statuses.count
            if statuses[index].isAvailable(serial: serial) {
                statusCursor = index + 1
                return index
            }
        }
        return nil
    }

    // MARK: Closing sequences at the end of a run

    /// Stops the schedule and sends the last request of each live sequence.
    func closeSequences() {
        stop()
        closing = true
        activateSlots()
        dispatch(now: MonotonicClock.now())
    }

    /// A sequence of this lane is live or has a request in flight.
    var hasOpenSequence: Bool {
        statuses.contains { $0.isLive || $0.inFlight > 0 }
    }

    private func closingTicket(for slot: SlotCore) -> SendTicket? {
        guard let index = statuses.indices.first(where: { statuses[$0].isLive && statuses[$0].inFlight == 0 }),
              let step = statuses[index].closingMark() else {
            park(slot)
            return nil
        }
        return SendTicket(request: step.request, sequence: step.mark, sequenceIndex: index)
    }
}
