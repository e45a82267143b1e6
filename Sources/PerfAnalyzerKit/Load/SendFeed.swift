/// The correlation ID and flags one request of a sequence model carries.
struct SequenceMark: Sendable, Equatable {
    var id: UInt64
    var start: Bool
    var end: Bool
}

/// What a slot sends next, and when it was meant to go out.
struct SendTicket: Sendable {
    /// Index into the run's prepared requests.
    var request: Int
    /// Intended send time on the monotonic clock; 0 when sends follow answers (concurrency mode).
    var intendedNs: UInt64 = 0
    var sequence: SequenceMark? = nil
    /// The feed's own index of the sequence the request belongs to.
    var sequenceIndex = 0
}

/// Hands slots their requests. Confined to the slots' event loop.
///
/// A slot asks `next(for:)` whenever it could send; a feed that has nothing now returns nil
/// and wakes the slot with `resume()` once it has.
protocol SendFeed: AnyObject, Sendable {
    func next(for slot: SlotCore) -> SendTicket?
    /// The request of `ticket` ended, successfully or not.
    func ended(_ ticket: SendTicket, succeeded: Bool)
}

/// Concurrency mode: the slot sends whenever it is free. Requests walk the prepared list
/// round-robin from the slot's own starting point, or, for a sequence model, play the
/// slot's own sequence.
final class ConcurrencyFeed: SendFeed, @unchecked Sendable {
    private let counters: LoadCounters
    private let requestCount: Int
    @exclusivity(unchecked) private var cursor: Int
    @exclusivity(unchecked) private var sequence: SequenceStatus?
    private let sequences: SequenceSource?
    /// Set when the run ends: send only what closes the slot's live sequence.
    var closing = false

    init(counters: LoadCounters, requestCount: Int, slotIndex: Int, sequences: SequenceSource?) {
        self.counters = counters
        self.requestCount = requestCount
        cursor = slotIndex % requestCount
        self.sequences = sequences
        sequence = sequences.map { _ in SequenceStatus() }
    }

    func next(for slot: SlotCore) -> SendTicket? {
        if closing {
            guard let mark = sequence?.closingMark() else { return nil }
            return SendTicket(request: mark.request, sequence: mark.mark)
        }
        guard counters.claimSend() else { return nil }
        if let sequences, sequence != nil {
            let step = sequence!.nextMark(source: sequences)
            return SendTicket(request: step.request, sequence: step.mark)
        }
        let request = cursor
        cursor += 1
        if cursor == requestCount { cursor = 0 }
        return SendTicket(request: request)
    }

    func ended(_ ticket: SendTicket, succeeded: Bool) {
        guard let sequences, let mark = ticket.sequence else { return }
        sequence?.ended(mark, source: sequences)
    }

    /// A sequence of this feed is live or its last request is in flight.
    var hasOpenSequence: Bool {
        guard let sequence else { return false }
        return sequence.isLive || sequence.inFlight > 0
    }
}
