/// A consumer of request records on one event loop. Called on that loop, once per request,
/// with no lock: a sink keeps what it needs and returns.
protocol RequestRecordSink: AnyObject {
    func record(_ record: borrowing RequestRecord)
}

/// The sinks of one event loop: the window aggregate always, the others when the run asks
/// for them. Every finished request of the loop's slots goes to each, in this order.
///
/// Confined to its event loop, like the slots that feed it.
final class LoopSinks: @unchecked Sendable {
    let window: WindowRecorder
    /// The profile export's share of this loop (`--profile-export-file`).
    let export: ExportRecorder?
    /// Periodic concurrency's response counts.
    let periods: PeriodCounter?
    /// LLM runs: the token metrics.
    let tokens: TokenRecorder?
    /// Whether slots keep response bodies for a sink (the export writes the outputs).
    let keepsResponseBodies: Bool

    init(window: WindowRecorder, export: ExportRecorder? = nil, periods: PeriodCounter? = nil, tokens: TokenRecorder? = nil) {
        self.window = window
        self.export = export
        self.periods = periods
        self.tokens = tokens
        keepsResponseBodies = export?.keepsOutputs ?? false
    }

    /// A response of a streamed request arrived (its record so far); the request goes on.
    @inline(__always)
    func responseArrived(_ record: borrowing RequestRecord) {
        periods?.responseArrived(record)
    }

    /// Set between the two steps of a cut: records that end at or after it belong to the next window.
    @exclusivity(unchecked) private var pendingCutNs = UInt64.max
    /// The window that ended at `pendingCutNs`, once a record past it arrived.
    @exclusivity(unchecked) private var finished: LoopWindow?

    /// The slowest successful answer on this loop so far (`RequestWatch` scales its limit by it).
    @exclusivity(unchecked) private(set) var slowestAnswerNs: UInt64 = 0

    @inline(__always)
    func deliver(_ record: borrowing RequestRecord) {
        if record.endNs >= pendingCutNs { endWindow() }
        if case .success = record.outcome, record.endNs &- record.startNs > slowestAnswerNs, record.endNs > record.startNs {
            slowestAnswerNs = record.endNs - record.startNs
        }
        window.record(record)
        tokens?.record(record)
        export?.record(record)
        periods?.record(record)
    }

    /// The first step of a cut, before `cutNs`: from then on a record decides its window by its
    /// end time, so every loop's window ends at the same instant whenever the second step reaches it.
    func prepareCut(at cutNs: UInt64) {
        pendingCutNs = cutNs
    }

    /// Whether the window that began at the last cut will be reported (the export writes it as
    /// it goes) or not (it drops it).
    func decideWindow(measured: Bool) {
        export?.decide(measured: measured)
    }

    /// The second step, at or after `cutNs`: the window that ended then (the next one has started).
    func takeCut() -> LoopWindow {
        if pendingCutNs != .max { endWindow() }
        let window = finished!
        finished = nil
        return window
    }

    private func endWindow() {
        var client = window.cut(at: pendingCutNs)
        client.tokens = tokens?.cut()
        finished = LoopWindow(client: client, exported: export?.cut())
        pendingCutNs = .max
    }
}

/// One event loop's share of a window, from each of its sinks.
struct LoopWindow: Sendable {
    var client: ClientWindow
    var exported: ExportBatch?
}

/// One window of the whole load: the client figures merged over the loops, and each loop's
/// share of the profile export.
public struct WindowCut: Sendable {
    public var client: ClientWindow
    var exported: [ExportBatch]
    /// `--mpi-split-load` on rank 0: the other ranks' export entries of this window, as JSON.
    var relayed: [UInt8] = []
}
