import Histogram

/// What the client saw in one measurement window: completed requests, their latencies
/// (an HDR histogram, so memory stays flat however many requests there were) and
/// the split of each request's time into send, wait and receive.
public struct ClientWindow: Sendable {
    /// Largest latency the histogram tells apart; longer requests are recorded at this value.
    public static let maxTrackableLatencyNs: UInt64 = 600_000_000_000

    public var startNs: UInt64
    public var endNs: UInt64
    /// Successful requests that completed inside the window.
    public var requestCount: Int = 0
    /// Inferences those requests carried (requests × batch size).
    public var inferenceCount: Int = 0
    public var failureCount: Int = 0
    /// How the window's first failed request failed.
    public var firstFailure: RequestOutcome? = nil
    public var latencyNs: Histogram<UInt64>
    public var latencySumNs: UInt64 = 0
    /// Sum of squared latencies in µs², for the standard deviation.
    public var latencySquaresUs: Double = 0
    public var sendSumNs: UInt64 = 0
    public var receiveSumNs: UInt64 = 0
    /// Responses received (decoupled models answer a request with any number of them).
    public var responseCount: Int = 0
    /// Sum over requests of the time to their last response (decoupled models).
    public var lastResponseSumNs: UInt64 = 0
    /// Sequences whose last request completed in the window (sequence models).
    public var sequenceCount: Int = 0
    /// How sends kept to their schedule; nil when sends follow answers (concurrency mode).
    public var schedule: ScheduleFigures?
    /// CPU time the event loops used in the window, and the loops' time it spans (one window
    /// length per loop): their ratio is the client's overhead, perf_analyzer's "Avg client
    /// overhead" (its share of time the load threads were not waiting).
    public var loopBusyNs: UInt64 = 0
    public var loopSpanNs: UInt64 = 0
    /// LLM runs: the token metrics (time to first token, inter-token latency, output tokens).
    public var tokens: TokenWindow?

    public init(startNs: UInt64, endNs: UInt64 = 0, scheduled: Bool = false) {
        self.startNs = startNs
        self.endNs = endNs
        self.latencyNs = Histogram<UInt64>.emptyLatency
        schedule = scheduled ? ScheduleFigures() : nil
    }

    @inline(__always)
    public mutating func recordSuccess(latencyNs latency: UInt64, sendNs: UInt64, receiveNs: UInt64, batchSize: Int) {
        requestCount += 1
        inferenceCount += batchSize
        _ = latencyNs.record(min(latency, Self.maxTrackableLatencyNs))
        latencySumNs &+= latency
        let micros = Double(latency) * 0.001
        latencySquaresUs += micros * micros
        sendSumNs &+= sendNs
        receiveSumNs &+= receiveNs
        responseCount += 1
    }

    /// A request of a decoupled model: latency to its first response (or to its end when it
    /// had none), the number of responses and the time to the last one.
    @inline(__always)
    public mutating func recordDecoupled(firstResponseNs: UInt64, lastResponseNs: UInt64, responses: Int, batchSize: Int) {
        recordSuccess(latencyNs: firstResponseNs, sendNs: 0, receiveNs: 0, batchSize: batchSize)
        responseCount += responses - 1
        lastResponseSumNs &+= lastResponseNs
    }

    /// A request went out `lagNs` after its intended time.
    @inline(__always)
    public mutating func recordSend(lagNs: UInt64, delayed: Bool) {
        schedule?.recordSend(lagNs: lagNs, delayed: delayed)
    }

    /// A scheduled request completed `sinceIntendedNs` after it was meant to be sent.
    @inline(__always)
    public mutating func recordScheduledLatency(_ sinceIntendedNs: UInt64) {
        _ = schedule?.latencyFromIntendedNs.record(min(sinceIntendedNs, Self.maxTrackableLatencyNs))
    }

    public mutating func recordFailure(_ outcome: RequestOutcome) {
        failureCount += 1
        if firstFailure == nil { firstFailure = outcome }
    }

    /// Folds a window of the same time span (another event loop's share) or an adjacent one into this.
    public mutating func merge(_ other: ClientWindow) {
        startNs = min(startNs, other.startNs)
        endNs = max(endNs, other.endNs)
        requestCount += other.requestCount
        inferenceCount += other.inferenceCount
        failureCount += other.failureCount
        if firstFailure == nil { firstFailure = other.firstFailure }
        latencyNs.add(other.latencyNs)
        latencySumNs &+= other.latencySumNs
        latencySquaresUs += other.latencySquaresUs
        sendSumNs &+= other.sendSumNs
        receiveSumNs &+= other.receiveSumNs
        responseCount += other.responseCount
        lastResponseSumNs &+= other.lastResponseSumNs
        sequenceCount += other.sequenceCount
        loopBusyNs &+= other.loopBusyNs
        loopSpanNs &+= other.loopSpanNs
        if let theirs = other.schedule {
            if schedule == nil { schedule = ScheduleFigures() }
            schedule!.merge(theirs)
        }
        if let theirs = other.tokens {
            if tokens == nil { tokens = TokenWindow() }
            tokens!.merge(theirs)
        }
    }

    public var durationNs: UInt64 { endNs > startNs ? endNs - startNs : 0 }

    /// Percent of the load threads' time spent working rather than waiting.
    public var clientOverheadPercent: Double {
        loopSpanNs > 0 ? min(100, Double(loopBusyNs) * 100 / Double(loopSpanNs)) : 0
    }

    public var averageLatencyNs: UInt64 { requestCount > 0 ? latencySumNs / UInt64(requestCount) : 0 }

    /// Sample standard deviation of the latencies, in µs.
    public var latencyStandardDeviationUs: Double {
        guard requestCount > 1 else { return 0 }
        let count = Double(requestCount)
        let mean = Double(latencySumNs) / 1000 / count
        let variance = max(0, (latencySquaresUs - count * mean * mean) / (count - 1))
        return variance.squareRoot()
    }

    public func latencyPercentileNs(_ percentile: Int) -> UInt64 {
        requestCount > 0 ? latencyNs.valueAt(percentile: Double(percentile)) : 0
    }

    /// `latencyPercentileNs` of each of `percentiles` (ascending, 1 to 99), in one walk.
    public func latencyPercentilesNs(_ percentiles: [Int]) -> [UInt64] {
        guard requestCount > 0 else { return percentiles.map { _ in 0 } }
        return latencyNs.summary(percentiles: percentiles.map(Double.init)).values
    }

    /// Responses per second over the window's real duration (decoupled models).
    public var responseThroughput: Double {
        durationNs > 0 ? Double(responseCount) * 1e9 / Double(durationNs) : 0
    }

    /// Inferences per second over the window's real duration.
    public var throughput: Double {
        durationNs > 0 ? Double(inferenceCount) * 1e9 / Double(durationNs) : 0
    }

    /// Completed sequences per second (sequence models).
    public var sequenceThroughput: Double {
        durationNs > 0 ? Double(sequenceCount) * 1e9 / Double(durationNs) : 0
    }

    public var averageSendNs: UInt64 { requestCount > 0 ? sendSumNs / UInt64(requestCount) : 0 }
    public var averageReceiveNs: UInt64 { requestCount > 0 ? receiveSumNs / UInt64(requestCount) : 0 }
}

/// How well a scheduled load (request rate, intervals) kept its send times in one window:
/// sends, late sends, the lag of each send behind its intended time, and the latency counted
/// from the intended time, which also holds any wait inside the client (wrk2's correction
/// for coordinated omission).
public struct ScheduleFigures: Sendable {
    public var sentCount = 0
    /// Sends that waited for a free connection or went out well after their time.
    public var delayedCount = 0
    public var sendLagNs = Histogram<UInt64>.emptyLatency
    public var latencyFromIntendedNs = Histogram<UInt64>.emptyLatency

    public init() {}

    @inline(__always)
    mutating func recordSend(lagNs: UInt64, delayed: Bool) {
        sentCount += 1
        if delayed { delayedCount += 1 }
        _ = sendLagNs.record(min(max(lagNs, 1), ClientWindow.maxTrackableLatencyNs))
    }

    mutating func merge(_ other: ScheduleFigures) {
        sentCount += other.sentCount
        delayedCount += other.delayedCount
        sendLagNs.add(other.sendLagNs)
        latencyFromIntendedNs.add(other.latencyFromIntendedNs)
    }

    /// Percent of sends that were delayed.
    public var delayedPercent: Double { sentCount > 0 ? Double(delayedCount) * 100 / Double(sentCount) : 0 }

    public func sendLagPercentileNs(_ percentile: Double) -> UInt64 {
        sentCount > 0 ? sendLagNs.valueAt(percentile: percentile) : 0
    }

    public var maxSendLagNs: UInt64 { sentCount > 0 ? sendLagNs.max : 0 }

    public func latencyFromIntendedPercentileNs(_ percentile: Double) -> UInt64 {
        latencyFromIntendedNs.totalCount > 0 ? latencyFromIntendedNs.valueAt(percentile: percentile) : 0
    }
}
