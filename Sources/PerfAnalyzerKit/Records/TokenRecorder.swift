import KServeProtocol

/// The token-metrics sink: folds each successful LLM request of one event loop into the current
/// window's `TokenWindow`. An OpenAI answer says which responses carried content; every
/// response of a decoupled model's stream is a token.
///
/// Confined to its event loop, like `WindowRecorder`.
final class TokenRecorder: RequestRecordSink, @unchecked Sendable {
    @exclusivity(unchecked) private var window: TokenWindow
    private let scheduled: Bool
    private let goodput: Goodput?

    init(scheduled: Bool, goodput: Goodput?) {
        self.scheduled = scheduled
        self.goodput = goodput
        window = TokenWindow(scheduled: scheduled)
    }

    func record(_ record: borrowing RequestRecord) {
        guard case .success = record.outcome else { return }
        var tally = record.tokens
        if record.toFirstResponse, let log = record.responses, let first = log.timesNs.first, let last = log.timesNs.last {
            // A decoupled model's stream: one token per response.
            tally = TokenTally(streamed: true, contentEvents: record.responseCount, usageTokens: -1, firstContentNs: first, lastContentNs: last)
        }
        window.requests += 1
        let tokens = tally.outputTokens
        window.outputTokens += tokens
        if tally.countedByServer { window.countedByServer += 1 } else { window.countedByResponses += 1 }
        _ = window.outputTokensPerRequest.record(UInt64(tokens))
        var ttft: UInt64?
        var tpot: UInt64?
        if tally.streamed, tally.contentEvents > 0 {
            window.streamedRequests += 1
            ttft = tally.firstContentNs &- record.startNs
            _ = window.timeToFirstTokenNs.record(min(ttft!, ClientWindow.maxTrackableLatencyNs))
            if scheduled, record.intendedNs != 0 {
                _ = window.timeToFirstTokenFromIntendedNs?.record(min(tally.firstContentNs &- record.intendedNs, ClientWindow.maxTrackableLatencyNs))
            }
            if tokens > 1 {
                tpot = (tally.lastContentNs &- tally.firstContentNs) / UInt64(tokens - 1)
                _ = window.timePerOutputTokenNs.record(tpot!)
            }
            recordGaps(record, everyResponse: record.toFirstResponse)
        }
        if let goodput, goodput.isMet(timeToFirstTokenNs: ttft, timePerOutputTokenNs: tpot, latencyNs: record.endNs &- record.startNs) {
            window.goodRequests += 1
        }
    }

    private func recordGaps(_ record: borrowing RequestRecord, everyResponse: Bool) {
        guard let log = record.responses else { return }
        var previous: UInt64 = 0
        let times = log.timesNs
        let content = log.carriesContent
        for index in times.indices where everyResponse || (index < content.count && content[index]) {
            if previous != 0 {
                let gap = times[index] &- previous
                if gap == 0 { window.gapsWithinOneRead += 1 }
                _ = window.interTokenLatencyNs.record(min(gap, ClientWindow.maxTrackableLatencyNs))
            }
            previous = times[index]
        }
    }

    /// Closes the current window and starts the next. Runs on the loop.
    func cut() -> TokenWindow {
        defer { window = TokenWindow(scheduled: scheduled) }
        return window
    }
}
