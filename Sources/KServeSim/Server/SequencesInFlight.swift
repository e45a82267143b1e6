import NIOConcurrencyHelpers

/// Requests of sequence models that the server has received and not yet answered,
/// counted per correlation ID, for the record's `sequence_in_flight`. A client that
/// waits for each answer before sending the next request of a sequence never has
/// two in flight, so a count above zero shows one that overlapped them.
final class SequencesInFlight: Sendable {
    private let counts = NIOLockedValueBox<[CorrelationID: Int]>([:])

    /// Counts a request of sequence `id` as in flight until its arrival is answered.
    func arrive(_ id: CorrelationID) -> SequenceArrival {
        let others = counts.withLockedValue { counts in
            let others = counts[id, default: 0]
            counts[id] = others + 1
            return others
        }
        return SequenceArrival(id: id, othersInFlight: others, book: self)
    }

    fileprivate func leave(_ id: CorrelationID) {
        counts.withLockedValue { counts in
            guard let count = counts[id] else { return }
            counts[id] = count > 1 ? count - 1 : nil
        }
    }
}

/// One request's place in ``SequencesInFlight``. Call ``answered()`` right before the
/// request's last response is written: from then on the client may rightly send the
/// next request of the sequence, and leaving any later would count this one against
/// it. An arrival dropped unanswered (a stream that ended with requests still queued)
/// leaves on its own.
final class SequenceArrival: Sendable {
    let id: CorrelationID
    /// Other requests of the same sequence in flight when this one arrived.
    let othersInFlight: Int
    private let book: SequencesInFlight
    private let inFlight = NIOLockedValueBox(true)

    fileprivate init(id: CorrelationID, othersInFlight: Int, book: SequencesInFlight) {
        self.id = id
        self.othersInFlight = othersInFlight
        self.book = book
    }

    /// Ends this request's time in flight; later calls do nothing.
    func answered() {
        let wasInFlight = inFlight.withLockedValue { flag in
            defer { flag = false }
            return flag
        }
        if wasInFlight { book.leave(id) }
    }

    deinit { answered() }
}
