import Testing
@testable import PerfAnalyzerKit

/// A level with `count` requests of `latencyUs` each over one second.
private func level(_ concurrency: Int, count: Int, latencyUs: UInt64, batch: Int = 1) -> LevelResult {
    var window = ClientWindow(startNs: 0, endNs: 1_000_000_000)
    for _ in 0..<count {
        window.recordSuccess(latencyNs: latencyUs * 1000, sendNs: 10_000, receiveNs: 5_000, batchSize: batch)
    }
    var server = ServerModelStats(name: "m", version: "1")
    server.successCount = UInt64(count)
    server.successNs = UInt64(count) * 200_000
    server.queueCount = UInt64(count)
    server.queueNs = UInt64(count) * 50_000
    server.computeInputCount = UInt64(count)
    server.computeInputNs = UInt64(count) * 10_000
    server.computeInferCount = UInt64(count)
    server.computeInferNs = UInt64(count) * 100_000
    server.computeOutputCount = UInt64(count)
    server.computeOutputNs = UInt64(count) * 20_000
    return LevelResult(concurrency: concurrency, client: window, server: ServerWindowStats(model: server, composing: []), percentile: nil)
}

@Suite("Reports")
struct ReportTests {
    /// perf_analyzer's header, byte for byte, then (with --verbose-csv) our client CPU column.
    @Test("CSV header is perf_analyzer's, byte for byte")
    func header() {
        #expect(CSVReport(percentile: nil, verbose: false, serverStatistics: true).header ==
            "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency")
        #expect(CSVReport(percentile: nil, verbose: true, serverStatistics: true).header ==
            "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,request/response,response wait" + ",Client CPU per Request,Client CPU Utilization,Client Run Queue Wait,Client Steal,Client Limited")
        #expect(CSVReport(percentile: nil, verbose: false, serverStatistics: false).header ==
            "Concurrency,Inferences/Second,Client Send,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency")
        #expect(CSVReport(percentile: 75, verbose: true, serverStatistics: true).header ==
            "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p75 latency,p90 latency,p95 latency,p99 latency,request/response,response wait" + ",Client CPU per Request,Client CPU Utilization,Client Run Queue Wait,Client Steal,Client Limited")
    }

    @Test("CSV rows are sorted by throughput and hold µs figures")
    func rows() {
        let report = CSVReport(percentile: nil, verbose: true, serverStatistics: true)
        let text = report.document([level(2, count: 300, latencyUs: 400), level(1, count: 100, latencyUs: 300)])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("1,100,10,"))
        #expect(lines[2].hasPrefix("2,300,10,"))
        // wait 300-10-5 = 285 µs; server accounted 50 + 130 = 180 µs; the rest is network and server send/recv.
        // Our last cells, client CPU per request and the client's health, are empty: these levels did not measure them.
        #expect(lines[1] == "1,100,10,105,50,10,100,20,5,300,300,300,300,300,15,285,,,,,")
    }

    @Test("console level block in perf_analyzer's layout")
    func consoleBlock() {
        var options = PerfAnalyzerOptions()
        options.modelName = "m"
        let report = ConsoleReport(context: RunContext(options: options, isAsync: false, serverStatistics: true))
        let block = report.levelBlock(level(1, count: 100, latencyUs: 300))
        #expect(block == """
              Client: 
                Request count: 100
                Throughput: 100 infer/sec
                Avg latency: 300 usec (standard deviation 0 usec)
                p50 latency: 300 usec
                p90 latency: 300 usec
                p95 latency: 300 usec
                p99 latency: 300 usec
                Avg HTTP time: 300 usec (send/recv 15 usec + response wait 285 usec)
              Server: 
                Inference count: 0
                Execution count: 0
                Successful request count: 100
                Avg request latency: 200 usec (overhead 20 usec + queue 50 usec + compute input 10 usec + compute infer 100 usec + compute output 20 usec)

            """)
        #expect(report.summary([level(1, count: 100, latencyUs: 300)]) == """
            Inferences/Second vs. Client Average Batch Latency
            Concurrency: 1, throughput: 100 infer/sec, latency 300 usec
            """)
    }

    @Test("response cache: perf_analyzer's hit and miss lines and CSV columns")
    func responseCache() {
        var options = PerfAnalyzerOptions()
        options.modelName = "m"
        var context = RunContext(options: options, isAsync: false, serverStatistics: true)
        context.responseCache = true
        var result = level(1, count: 100, latencyUs: 300)
        // 90 hits of 2 µs; 10 misses of 4 µs lookup/insert plus their compute.
        result.server!.model.cacheHitCount = 90
        result.server!.model.cacheHitNs = 90 * 2_000
        result.server!.model.cacheMissCount = 10
        result.server!.model.cacheMissNs = 10 * 4_000
        for keyPath in [\ServerModelStats.computeInputCount, \.computeInferCount, \.computeOutputCount] {
            result.server!.model[keyPath: keyPath] = 10
        }
        result.server!.model.computeInputNs = 10 * 10_000
        result.server!.model.computeInferNs = 10 * 100_000
        result.server!.model.computeOutputNs = 10 * 20_000
        let block = ConsoleReport(context: context).levelBlock(result)
        #expect(block.contains("""
                Cache hit count: 90
                Cache miss count: 10
                Successful request count: 100
                Avg request latency: 200 usec (overhead 135 usec + queue 50 usec + cache hit/miss 15 usec)
                  Average Cache Hit Latency: 2 usec
                  Average Cache Miss Latency: 134 usec (cache lookup/insertion 4 usec + compute input 10 usec + compute infer 100 usec + compute output 20 usec)

            """))
        let csv = CSVReport(percentile: nil, verbose: false, serverStatistics: true, responseCache: true)
        #expect(csv.header.contains("Server Compute Output,Server Cache Hit,Server Cache Miss,Client Recv"))
        #expect(csv.row(result).hasPrefix("1,100,10,"))
        #expect(csv.row(result).contains(",99,50,10,100,20,2,4,5,"))
        #expect(!CSVReport(percentile: nil, verbose: false, serverStatistics: true).header.contains("Cache"))
        #expect(!ConsoleReport(context: RunContext(options: options, isAsync: false, serverStatistics: true)).levelBlock(result).contains("Cache"))
    }

    @Test("-v prints the client's overhead; a busy client is warned about whatever the verbosity")
    func clientOverhead() {
        var options = PerfAnalyzerOptions()
        options.modelName = "m"
        var result = level(1, count: 100, latencyUs: 300)
        result.client.loopBusyNs = 250_000_000
        result.client.loopSpanNs = 1_000_000_000
        let quiet = ConsoleReport(context: RunContext(options: options, isAsync: false, serverStatistics: true))
        #expect(!quiet.levelBlock(result).contains("Avg client overhead"))
        #expect(!quiet.levelBlock(result).contains("[WARNING]"))
        options.verbosity = 1
        let verbose = ConsoleReport(context: RunContext(options: options, isAsync: false, serverStatistics: true))
        #expect(verbose.levelBlock(result).contains("    Throughput: 100 infer/sec\n    Avg client overhead: 25.00%\n    Avg latency:"))
        result.client.loopBusyNs = 600_000_000
        #expect(quiet.levelBlock(result).hasSuffix("\n[WARNING] Perf Analyzer is not able to keep up with the desired load. The results may not be accurate."))
    }

    @Test("settings block names the mode, window and call style")
    func settings() {
        var options = PerfAnalyzerOptions()
        options.concurrencyRange = ConcurrencyRange(start: 1, end: 4, step: 1)
        options.percentile = 95
        let text = ConsoleReport(context: RunContext(options: options, isAsync: true, serverStatistics: true)).settingsBlock()
        #expect(text.contains("*** Measurement Settings ***\n  Batch size: 1\n  Service Kind: TRITON\n"))
        #expect(text.contains("  Using \"time_windows\" mode for stabilization\n"))
        #expect(text.contains("  Stabilizing using p95 throughput\n"))
        #expect(text.contains("  Measurement window: 5000 msec\n"))
        #expect(text.contains("  Concurrency limit: 4 concurrent requests\n"))
        #expect(text.contains("  Using asynchronous calls for inference\n"))
    }

    @Test("%g formatting as perf_analyzer prints rates")
    func gFormat() {
        #expect(formatG(1334.2345) == "1334.23")
        #expect(formatG(100) == "100")
        #expect(formatG(1234567) == "1.23457e+06")
    }

    @Test("window merge keeps counts, sums and percentiles")
    func merge() {
        var first = ClientWindow(startNs: 0, endNs: 1_000_000_000)
        var second = ClientWindow(startNs: 1_000_000_000, endNs: 2_000_000_000)
        for _ in 0..<90 { first.recordSuccess(latencyNs: 1_000_000, sendNs: 0, receiveNs: 0, batchSize: 2) }
        for _ in 0..<10 { second.recordSuccess(latencyNs: 9_000_000, sendNs: 0, receiveNs: 0, batchSize: 2) }
        first.merge(second)
        #expect(first.requestCount == 100)
        #expect(first.inferenceCount == 200)
        #expect(first.throughput == 100)
        #expect(first.averageLatencyNs == 1_800_000)
        #expect(first.latencyPercentileNs(50) / 1000 == 1000)
        #expect(first.latencyPercentileNs(95) / 1000 == 9000)
        #expect(abs(first.latencyStandardDeviationUs - 2412.09) < 1)
    }
}
