import Foundation
import KServeProtocol
import NIOConcurrencyHelpers

/// The live line on a terminal: while a level is measured, one line on stderr, redrawn in
/// place a few times a second, says which level and window the run is in, what the last
/// window measured, how far apart the last three windows still are (what stability waits on)
/// and how long the level has run. Used only when stderr is a terminal; it is erased before
/// anything else is printed, so the report on stdout is the same with or without it.
final class ProgressLine: RunEventConsumer, @unchecked Sendable {
    private struct State {
        var level: LoadLevel?
        var levelStartNs: UInt64 = 0
        /// Windows measured at this level.
        var windows = 0
        var lastThroughput: Double?
        var lastLatencyUs: UInt64?
        var spread: (throughput: Double, latency: Double)?
        /// Completions when the current window began.
        var completedAtWindowStart = 0
        var shown = false
        var finished = false
    }

    private let context: RunContext
    private let write: @Sendable (String) -> Void
    private let completed: @Sendable () -> Int
    private let state = NIOLockedValueBox(State())
    private var ticker: Task<Void, Never>?

    /// - Parameters:
    ///   - completed: requests completed since the run started (the load's own counter).
    ///   - write: where the line goes (stderr, unbuffered).
    init(context: RunContext, completed: @escaping @Sendable () -> Int, write: @escaping @Sendable (String) -> Void) {
        self.context = context
        self.completed = completed
        self.write = write
    }

    /// Whether a progress line makes sense here: stderr is a terminal.
    static var isWanted: Bool { isatty(STDERR_FILENO) == 1 }

    /// Starts redrawing; the line stops with the run's last event.
    func start(every intervalNs: UInt64 = 250_000_000) {
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: intervalNs)
                guard let self else { return }
                self.redraw()
            }
        }
    }

    func consume(_ event: RunEvent) {
        state.withLockedValue { state in
            // Whatever the console prints next must not land on the line.
            erase(&state)
            switch event {
            case .levelStarting(let level, let phase):
                state.level = phase == .measurement ? level : nil
                state.levelStartNs = MonotonicClock.now()
                state.windows = 0
                state.lastThroughput = nil
                state.lastLatencyUs = nil
                state.spread = nil
                state.completedAtWindowStart = completed()
            case .windowMeasured(let window):
                state.windows = window.trial
                state.lastThroughput = window.client.throughput
                state.lastLatencyUs = window.stabilizingLatencyNs / 1000
                state.spread = window.spread
                state.completedAtWindowStart = completed()
            case .levelMeasured, .levelAbandoned:
                state.level = nil
            case .notice:
                break
            case .runFinished:
                state.level = nil
                state.finished = true
                ticker?.cancel()
            }
        }
    }

    private func redraw() {
        state.withLockedValue { state in
            guard !state.finished, let level = state.level else { return }
            write("\r\u{1B}[2K" + text(state, level: level))
            state.shown = true
        }
    }

    private func erase(_ state: inout State) {
        guard state.shown else { return }
        write("\r\u{1B}[2K")
        state.shown = false
    }

    private func text(_ state: State, level: LoadLevel) -> String {
        let trials = context.requestCount > 0 ? 1 : context.maxTrials
        var parts = ["[\(level.phrase)] window \(state.windows + 1) of \(trials)"]
        parts.append("\(completed() - state.completedAtWindowStart) requests so far")
        if let throughput = state.lastThroughput, let latency = state.lastLatencyUs {
            let latencyName = context.percentile.map { "p\($0)" } ?? "avg"
            parts.append("last window \(formatG(throughput)) infer/sec, \(latencyName) \(latency) usec")
        }
        if let spread = state.spread {
            parts.append(String(format: "spread %.1f%% / %.1f%% (stable at %g%%)", spread.throughput * 100, spread.latency * 100,
                                context.stabilityPercentage))
        }
        let elapsed = Double(MonotonicClock.now() &- state.levelStartNs) / 1e9
        parts.append(String(format: "%.1f s", elapsed))
        return parts.joined(separator: " · ")
    }
}
