import NIOConcurrencyHelpers

/// What every sequence of a run draws from: the correlation IDs, which stream a new sequence
/// plays and how long it runs. Shared by the slots and lanes of all event loops; taken once
/// per sequence, so a lock is cheap here.
final class SequenceSource: Sendable {
    struct Start: Equatable {
        var id: UInt64
        /// Prepared-request indices of the stream the sequence plays, in order.
        var steps: Range<Int>
        var length: Int
    }

    struct IDRangeTooSmall: Error, CustomStringConvertible {
        var options: SequenceOptions
        var live: Int
        var description: String {
            let range = "\(options.idStart):\(options.idEnd.map(String.init) ?? "")"
            return "--sequence-id-range \(range) holds \(options.idCount) correlation ID\(options.idCount == 1 ? "" : "s"), but \(live) sequences run at once; widen the range so live sequences never share an ID"
        }
    }

    private struct State {
        var nextOffset: UInt64 = 0
        var live: Set<UInt64> = []
        var random: SplitMix64
    }

    /// One range of request indices per stream (one stream for generated data).
    let streams: [Range<Int>]
    /// JSON input data: a sequence runs for its stream's length unless `--sequence-length` is given.
    private let streamsSetLength: Bool
    private let options: SequenceOptions
    private let state: NIOLockedValueBox<State>

    init(streams: [Range<Int>], streamsSetLength: Bool, options: SequenceOptions, seed: UInt64 = 0x5E0_0E4CE) {
        precondition(!streams.isEmpty && streams.allSatisfy { !$0.isEmpty })
        self.streams = streams
        self.streamsSetLength = streamsSetLength
        self.options = options
        state = NIOLockedValueBox(State(random: SplitMix64(state: seed)))
    }

    /// Refuses an ID range too small for `live` sequences at once.
    func check(liveSequences live: Int) throws(IDRangeTooSmall) {
        if options.idCount < UInt64(live) { throw IDRangeTooSmall(options: options, live: live) }
    }

    /// A new sequence: the next free ID in the range (IDs of live sequences are skipped),
    /// a stream chosen uniformly as perf_analyzer chooses it, and its length.
    func begin() -> Start {
        state.withLockedValue { state in
            let count = options.idCount
            var id = options.idStart
            for _ in 0..<min(count, UInt64(state.live.count) + 1) {
                id = options.idStart + state.nextOffset % count
                state.nextOffset &+= 1
                if !state.live.contains(id) { break }
            }
            state.live.insert(id)
            let stream = streams.count == 1 ? 0 : Int(state.random.next() % UInt64(streams.count))
            let steps = streams[stream]
            return Start(id: id, steps: steps, length: length(ofStream: steps.count, random: &state.random))
        }
    }

    /// The sequence with this ID has ended; its ID may be used again.
    func release(_ id: UInt64) {
        _ = state.withLockedValue { $0.live.remove(id) }
    }

    /// A JSON stream sets the length unless `--sequence-length` was given; otherwise the
    /// length varies by up to the variation either way (never below 1).
    private func length(ofStream count: Int, random: inout SplitMix64) -> Int {
        if streamsSetLength && options.length == nil { return count }
        let base = options.length ?? SequenceOptions.defaultLength
        let unit = Double(random.next() >> 11) / 9_007_199_254_740_992  // [0, 1)
        let offset = Int((unit * 2 - 1) * options.lengthVariationPercent / 100 * Double(base))
        return max(1, base + offset)
    }
}

/// One sequence slot's state: which sequence it plays and how far it got.
struct SequenceStatus {
    private(set) var id: UInt64 = 0
    private var steps: Range<Int> = 0..<1
    private var length = 0
    private var sent = 0
    /// Requests of this sequence in flight.
    private(set) var inFlight = 0
    /// The request carrying END went out; the status is free once it ends.
    private(set) var endSent = false
    /// The START request is in flight.
    private var startInFlight = false

    /// Whether the next request may go out now. Requests of one sequence may travel on
    /// different connections, so two orderings are protected even without `serial`: nothing
    /// follows START before the server has answered it, and END waits for the requests before
    /// it; otherwise a request could reach the server for a sequence it does not know.
    func isAvailable(serial: Bool) -> Bool {
        if endSent || startInFlight { return false }
        if inFlight > 0 && (serial || (length > 0 && sent == length - 1)) { return false }
        return true
    }

    /// Started and not yet sent its END.
    var isLive: Bool { length > 0 && sent > 0 && !endSent }

    /// The next request of the sequence, starting a new sequence when none is live.
    mutating func nextMark(source: SequenceSource) -> (request: Int, mark: SequenceMark) {
        if length == 0 {
            let start = source.begin()
            id = start.id
            steps = start.steps
            length = start.length
            sent = 0
            endSent = false
        }
        return take(end: sent == length - 1)
    }

    /// The request that ends a live sequence when the run stops; nil when none is live.
    mutating func closingMark() -> (request: Int, mark: SequenceMark)? {
        guard isLive else { return nil }
        return take(end: true)
    }

    private mutating func take(end: Bool) -> (request: Int, mark: SequenceMark) {
        let request = steps.lowerBound + sent % steps.count
        let mark = SequenceMark(id: id, start: sent == 0, end: end)
        sent += 1
        inFlight += 1
        if end { endSent = true }
        if mark.start { startInFlight = true }
        return (request, mark)
    }

    /// A request of this sequence ended; after its END the ID goes back and the status is free.
    mutating func ended(_ mark: SequenceMark, source: SequenceSource) {
        guard mark.id == id else { return }
        inFlight -= 1
        if mark.start { startInFlight = false }
        if endSent && inFlight == 0 {
            source.release(id)
            length = 0
            endSent = false
        }
    }
}
