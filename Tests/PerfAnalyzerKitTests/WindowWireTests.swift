import Testing
@testable import PerfAnalyzerKit

/// A rank's window survives the trip to rank 0: counts, sums and histograms as recorded.
@Suite("MPI window wire format")
struct WindowWireTests {
    @Test("encode then decode keeps every count, sum and percentile; a cut-short buffer is refused")
    func roundTrip() throws {
        var window = ClientWindow(startNs: 1_000, endNs: 2_000_001_000, scheduled: true)
        for latency in stride(from: UInt64(100_000), to: 5_000_000, by: 7_919) {
            window.recordSuccess(latencyNs: latency, sendNs: 1_000, receiveNs: 2_000, batchSize: 2)
            window.recordSend(lagNs: latency / 100, delayed: latency % 3 == 0)
            window.recordScheduledLatency(latency + 5_000)
        }
        window.recordFailure(.connectionError("reset by peer"))
        let part = WindowWire.Part(window: window, cpuNs: 123_456, ending: "interrupted")
        let bytes = WindowWire.encode(part)
        let back = try #require(WindowWire.decode(bytes))
        #expect(back.cpuNs == 123_456)
        #expect(back.ending == "interrupted")
        #expect(back.window.requestCount == window.requestCount)
        #expect(back.window.inferenceCount == window.inferenceCount)
        #expect(back.window.failureCount == 1)
        #expect(back.window.firstFailure?.failureText == "reset by peer")
        #expect(back.window.latencySumNs == window.latencySumNs)
        #expect(back.window.latencySquaresUs == window.latencySquaresUs)
        #expect(back.window.latencyNs.totalCount == window.latencyNs.totalCount)
        for percentile in [50, 90, 99] {
            #expect(back.window.latencyPercentileNs(percentile) == window.latencyPercentileNs(percentile))
        }
        #expect(back.window.schedule?.sentCount == window.schedule?.sentCount)
        #expect(back.window.schedule?.delayedCount == window.schedule?.delayedCount)
        #expect(back.window.schedule?.sendLagPercentileNs(99) == window.schedule?.sendLagPercentileNs(99))
        // Merging the decoded copy twice is what rank 0 does with two ranks' windows.
        var merged = back.window
        merged.merge(back.window)
        #expect(merged.requestCount == 2 * window.requestCount)
        #expect(merged.latencyPercentileNs(90) == window.latencyPercentileNs(90))
        #expect(WindowWire.decode(Array(bytes.dropLast(3))) == nil)
    }

    @Test("a decoupled stream's token metrics and the rank's export entries make the trip too")
    func tokensAndExport() throws {
        var window = ClientWindow(startNs: 0, endNs: 1_000_000_000)
        var tokens = TokenWindow(scheduled: true)
        tokens.requests = 40
        tokens.streamedRequests = 39
        tokens.outputTokens = 1_234
        tokens.countedByResponses = 40
        tokens.goodRequests = 7
        tokens.gapsWithinOneRead = 3
        for value in stride(from: UInt64(1_000), to: 900_000, by: 1_013) {
            _ = tokens.timeToFirstTokenNs.record(value)
            _ = tokens.interTokenLatencyNs.record(value / 3)
            _ = tokens.timePerOutputTokenNs.record(value / 2)
            _ = tokens.outputTokensPerRequest.record(value % 50 + 1)
            _ = tokens.timeToFirstTokenFromIntendedNs!.record(value + 77)
        }
        window.tokens = tokens
        let entries = Array(#"{"timestamp":1,"request_inputs":{},"response_timestamps":[2],"response_outputs":[{}]}"#.utf8)
        let back = try #require(WindowWire.decode(WindowWire.encode(WindowWire.Part(window: window, cpuNs: 0, ending: nil, export: entries))))
        #expect(back.export == entries)
        #expect(back.ending == nil)
        let decoded = try #require(back.window.tokens)
        #expect(decoded.requests == 40 && decoded.streamedRequests == 39 && decoded.outputTokens == 1_234)
        #expect(decoded.countedByResponses == 40 && decoded.countedByServer == 0 && decoded.goodRequests == 7 && decoded.gapsWithinOneRead == 3)
        for (mine, theirs) in [(tokens.timeToFirstTokenNs, decoded.timeToFirstTokenNs), (tokens.interTokenLatencyNs, decoded.interTokenLatencyNs),
                               (tokens.timePerOutputTokenNs, decoded.timePerOutputTokenNs), (tokens.outputTokensPerRequest, decoded.outputTokensPerRequest),
                               (tokens.timeToFirstTokenFromIntendedNs!, decoded.timeToFirstTokenFromIntendedNs!)] {
            #expect(theirs.totalCount == mine.totalCount)
            #expect(theirs.valueAtPercentile(90) == mine.valueAtPercentile(90))
        }
        // Without tokens or entries the window has neither on the other side.
        let plain = try #require(WindowWire.decode(WindowWire.encode(WindowWire.Part(window: ClientWindow(startNs: 0), cpuNs: 0, ending: nil))))
        #expect(plain.window.tokens == nil && plain.export.isEmpty)
    }
}
