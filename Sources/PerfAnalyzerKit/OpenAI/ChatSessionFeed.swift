import KServeProtocol
import NIOConcurrencyHelpers
import NIOCore

/// The sessions of a `--session-concurrency` run, handed out once each, in order, to whichever
/// slot finishes its session first.
final class ChatSessionQueue: Sendable {
    let plan: ChatSessionPlan
    private let next = NIOLockedValueBox(0)

    init(plan: ChatSessionPlan) {
        self.plan = plan
    }

    func claim() -> Int? {
        next.withLockedValue { index in
            guard index < plan.sessions.count else { return nil }
            defer { index += 1 }
            return index
        }
    }
}

/// One slot's share of a `--session-concurrency` run: it plays one multi-turn chat after
/// another. Each turn's body carries the chat so far (every earlier turn's messages and the
/// server's answers), so it is built when the turn goes, not before the run; after an answer
/// the next turn waits for the entry's `delay`. Whole answers only: the history takes the
/// answer's `choices[0].message`, as perf_analyzer does.
///
/// Confined to its slot's event loop.
final class ChatSessionFeed: SendFeed, @unchecked Sendable {
    private let queue: ChatSessionQueue
    private let counters: LoadCounters
    private let builder: OpenAIRequestBuilder
    private let exports: Bool

    @exclusivity(unchecked) private var session: Int?
    @exclusivity(unchecked) private var turn = 0
    @exclusivity(unchecked) private var history: [[UInt8]] = []
    /// The next turn may not go before this (the previous turn's `delay` after its answer).
    @exclusivity(unchecked) private var readyAtNs: UInt64 = 0
    @exclusivity(unchecked) private var wakeArmed = false
    /// The request built for the ticket just handed out, and its export inputs.
    @exclusivity(unchecked) private(set) var pendingRequest: ByteBuffer?
    @exclusivity(unchecked) private(set) var pendingInputs: [UInt8]?

    init(queue: ChatSessionQueue, counters: LoadCounters, builder: OpenAIRequestBuilder, exports: Bool) {
        self.queue = queue
        self.counters = counters
        self.builder = builder
        self.exports = exports
    }

    func next(for slot: SlotCore) -> SendTicket? {
        if let current = session, turn >= queue.plan.sessions[current].count { session = nil }
        if session == nil {
            guard let claimed = queue.claim() else { return nil }
            session = claimed
            turn = 0
            history.removeAll()
            readyAtNs = 0
        }
        let now = MonotonicClock.now()
        if readyAtNs > now {
            if !wakeArmed {
                wakeArmed = true
                slot.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(readyAtNs)) { [self] in
                    wakeArmed = false
                    slot.resume()
                }
            }
            return nil
        }
        guard counters.claimSend() else { return nil }
        let step = queue.plan.sessions[session!][turn]
        history += step.messages
        let body = ChatSessionPlan.body(step, history: history)
        pendingRequest = builder.request(body: body)
        pendingInputs = exports ? ProfileExportWriter.encodeSessionInputs(body: body, sessionID: step.sessionID, delayMs: step.delayNs.map { $0 / 1_000_000 }) : nil
        return SendTicket(request: step.payload)
    }

    /// The answer to the turn in flight: its message joins the chat; nil when it is there, else
    /// why the session cannot go on.
    func answered(_ body: ByteBuffer?) -> String? {
        guard let current = session else { return nil }
        let step = queue.plan.sessions[current][turn]
        turn += 1
        guard let body, let message = ChatSessionPlan.answerMessage(Array(body.readableBytesView)) else {
            return "--session-concurrency: the answer has no choices[0].message to add to the chat (turns need whole answers: \"stream\": false)"
        }
        history.append(message)
        if let delay = step.delayNs { readyAtNs = MonotonicClock.now() + delay }
        return nil
    }

    func ended(_ ticket: SendTicket, succeeded: Bool) {
        // A failed turn ends its session: the chat cannot go on without the answer.
        if !succeeded { session = nil }
    }
}
