import Atomics
import KServeProtocol
import NIOCore

/// Fails a request that has waited too long for its answer, so a server that stops answering
/// ends the run with a reason instead of holding it forever. One watch per event loop looks
/// at that loop's slots a few times a second, off the send/receive path: the path itself only
/// keeps the start time it already records.
final class RequestWatch: @unchecked Sendable {
    /// The automatic limit never drops below this: a long generation is a healthy answer.
    static let automaticFloorNs: UInt64 = 60_000_000_000
    /// The automatic limit is this many times the slowest answer seen in the run.
    static let automaticFactor: UInt64 = 10
    /// How often a watch looks: four times within the limit, at most every 250 ms.
    static func period(fixedLimitMs: Int) -> TimeAmount {
        fixedLimitMs > 0 ? .milliseconds(Int64(min(250, max(10, fixedLimitMs / 4)))) : .milliseconds(250)
    }

    private let loop: EventLoop
    private let sinks: LoopSinks
    /// `--request-timeout` in ns; 0 for the automatic limit.
    private let fixedLimitNs: UInt64
    /// The slowest successful answer over every loop, shared by the watches.
    private let slowestAnswerNs: ManagedAtomic<UInt64>
    private let slotsOnLoop: @Sendable () -> [any LoadSlotBase]
    private let period: TimeAmount
    private var task: RepeatedTask?

    init(loop: EventLoop, sinks: LoopSinks, fixedLimitMs: Int, slowestAnswerNs: ManagedAtomic<UInt64>,
         slotsOnLoop: @escaping @Sendable () -> [any LoadSlotBase]) {
        self.loop = loop
        self.sinks = sinks
        fixedLimitNs = UInt64(max(0, fixedLimitMs)) * 1_000_000
        period = Self.period(fixedLimitMs: fixedLimitMs)
        self.slowestAnswerNs = slowestAnswerNs
        self.slotsOnLoop = slotsOnLoop
    }

    func start() {
        task = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in self.check() }
    }

    func stop() {
        task?.cancel()
        task = nil
    }

    /// The limit in force: the user's, or the automatic one from the answers seen so far.
    private var limitNs: UInt64 {
        if fixedLimitNs > 0 { return fixedLimitNs }
        let slowest = slowestAnswerNs.load(ordering: .relaxed)
        let (scaled, overflow) = slowest.multipliedReportingOverflow(by: Self.automaticFactor)
        return max(Self.automaticFloorNs, overflow ? .max : scaled)
    }

    private func check() {
        let local = sinks.slowestAnswerNs
        var shared = slowestAnswerNs.load(ordering: .relaxed)
        while local > shared {
            let (exchanged, current) = slowestAnswerNs.compareExchange(expected: shared, desired: local, ordering: .relaxed)
            if exchanged { break }
            shared = current
        }
        let limit = limitNs
        let now = MonotonicClock.now()
        for slot in slotsOnLoop() {
            let since = slot.awaitingSinceNs
            guard since > 0, now > since, now - since > limit else { continue }
            slot.abandonInFlight(.timedOut(Self.reason(limitNs: limit, automatic: fixedLimitNs == 0)))
        }
    }

    static func reason(limitNs: UInt64, automatic: Bool) -> String {
        let limitMs = limitNs / 1_000_000
        return automatic
            ? "the server stopped answering: no answer within \(limitMs) ms (the automatic --request-timeout: the longer of 60 s and 10 times the slowest answer so far)"
            : "the server stopped answering: no answer within \(limitMs) ms (--request-timeout)"
    }
}
