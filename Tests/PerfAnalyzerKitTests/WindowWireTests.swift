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
}
