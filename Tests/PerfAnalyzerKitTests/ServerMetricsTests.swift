import Testing
@testable import PerfAnalyzerKit

@Suite("Server metrics: options, merging, reports")
struct ServerMetricsTests {
    private func resolve(_ arguments: [String]) throws -> PerfAnalyzerOptions {
        try PerfAnalyzerCommand.parse(["-m", "m"] + arguments).resolve()
    }

    @Test("--metrics-url and --metrics-interval need --collect-metrics")
    func needCollect() {
        #expect(throws: OptionError("--metrics-url: only with --collect-metrics (it says where to read the server's metrics)")) {
            try resolve(["--metrics-url", "h:1/metrics"])
        }
        #expect(throws: OptionError("--metrics-interval: only with --collect-metrics (it says how often to read the server's metrics)")) {
            try resolve(["--metrics-interval", "100"])
        }
        #expect(RefusedFlags.firstIn(["--collect-metrics", "--metrics-url", "x", "--metrics-interval", "5"]) == nil)
    }

    @Test("defaults: the host of -u on port 8002, /metrics, every 1000 ms")
    func defaults() throws {
        #expect(try resolve(["--collect-metrics"]).serverMetrics == ServerMetricsOptions(endpoint: MetricsEndpoint(host: "localhost", port: 8002)))
        #expect(try resolve(["--collect-metrics", "-u", "10.0.0.7:9000"]).serverMetrics?.endpoint == MetricsEndpoint(host: "10.0.0.7", port: 8002))
        #expect(try resolve(["--collect-metrics", "-i", "grpc", "-u", "gpu-box:8001"]).serverMetrics?.endpoint == MetricsEndpoint(host: "gpu-box", port: 8002))
        #expect(try resolve(["--collect-metrics", "-u", "https://secure:8443/prefix"]).serverMetrics?.endpoint == MetricsEndpoint(host: "secure", port: 8002))
        #expect(try resolve(["--collect-metrics", "-u", "[::1]:8000"]).serverMetrics?.endpoint.description == "http://[::1]:8002/metrics")
        #expect(try resolve(["--collect-metrics", "--metrics-interval", "250"]).serverMetrics?.intervalMs == 250)
    }

    @Test("--metrics-url forms", arguments: [
        ("127.0.0.1:9/metrics", MetricsEndpoint(host: "127.0.0.1", port: 9)),
        ("http://box:8002/metrics", MetricsEndpoint(host: "box", port: 8002)),
        ("HTTP://box:8002", MetricsEndpoint(host: "box", port: 8002)),
        ("box:8002/", MetricsEndpoint(host: "box", port: 8002)),
        ("box/custom/path?x=1", MetricsEndpoint(host: "box", port: 80, path: "/custom/path?x=1")),
        ("[::1]:7/m", MetricsEndpoint(host: "::1", port: 7, path: "/m")),
    ])
    func urls(text: String, endpoint: MetricsEndpoint) throws {
        #expect(try resolve(["--collect-metrics", "--metrics-url", text]).serverMetrics?.endpoint == endpoint)
    }

    @Test("bad metrics flags are one line naming the flag", arguments: [
        (["--metrics-url", "https://box:8002/metrics"], "--metrics-url https://box:8002/metrics: https is not supported (Triton serves its metrics over plain HTTP)"),
        (["--metrics-url", "box:99999/metrics"], "--metrics-url box:99999/metrics: expected host:port/path or http://host:port/path"),
        (["--metrics-url", "box:1/a b"], "--metrics-url box:1/a b: the path '/a b' may not hold '#' or spaces"),
        (["--metrics-interval", "0"], "--metrics-interval 0: expected an interval from 1 to 86400000 msec"),
        (["--metrics-interval", "-5"], "--metrics-interval -5: expected an interval from 1 to 86400000 msec"),
    ])
    func badFlags(arguments: [String], line: String) {
        #expect(throws: OptionError(line)) { try resolve(["--collect-metrics"] + arguments) }
    }

    @Test("a periodic concurrency run has no levels to put metrics in")
    func periodic() {
        #expect(throws: OptionError("--collect-metrics: a periodic concurrency run has no levels to report metrics with")) {
            try resolve(["--collect-metrics", "-i", "grpc", "--streaming", "--periodic-concurrency-range", "1:2",
                         "--profile-export-file", "/tmp/does-not-exist-\(UInt64.random(in: 0...UInt64.max)).json"])
        }
    }

    @Test("merging as perf_analyzer does: average per GPU over the reads that had it, largest memory used, first total")
    func merging() {
        let merged = ServerMetrics(merging: [
            .make(util: ["a": 0.2, "b": 0.9], power: ["a": 100], used: ["a": 10], total: ["a": 1000], cpu: 0.5, cpuMemory: 7),
            .make(util: ["a": 0.4], power: ["a": 200], used: ["a": 30, "b": 5], total: ["a": 2000], cpu: nil, cpuMemory: 9),
            .make(util: ["a": 0.6], power: ["a": 150], used: ["a": 20], total: ["a": 3000], cpu: 0.7, cpuMemory: 8),
        ])
        #expect(abs(merged.gpuUtilization["a"]! - 0.4) < 1e-12)
        #expect(merged.gpuUtilization["b"] == 0.9)
        #expect(merged.gpuPowerWatts == ["a": 150])
        #expect(merged.gpuMemoryUsedBytes == ["a": 30, "b": 5])
        #expect(merged.gpuMemoryTotalBytes == ["a": 1000])
        #expect(abs(merged.cpuUtilization! - 0.6) < 1e-12)
        #expect(merged.cpuMemoryUsedBytes == 9)
        #expect(merged.readCount == 3)
        #expect(ServerMetrics(merging: []).cpuUtilization == nil)
    }

    private func level(metrics: ServerMetrics?, cpuNs: UInt64?) -> LevelResult {
        var window = ClientWindow(startNs: 0, endNs: 1_000_000_000)
        for _ in 0..<100 { window.recordSuccess(latencyNs: 300_000, sendNs: 10_000, receiveNs: 5_000, batchSize: 1) }
        return LevelResult(level: .concurrency(1), client: window, server: nil, percentile: nil, serverMetrics: metrics, clientCPUNs: cpuNs)
    }

    private let twoGPUs = ServerMetrics(merging: [ServerMetricsRead.make(
        util: ["GPU-b": 0.755, "GPU-a": 0.25], power: ["GPU-a": 120.5, "GPU-b": 230], used: ["GPU-a": 4_000_000_000, "GPU-b": 9_000_000_000],
        total: ["GPU-a": 16_000_000_000, "GPU-b": 24_000_000_000], cpu: 0.2525, cpuMemory: 2_147_483_648)])

    @Test("console: perf_analyzer's Server Prometheus Metrics block, GPUs sorted, then the CPU lines")
    func consoleBlock() {
        var options = PerfAnalyzerOptions()
        options.serverMetrics = ServerMetricsOptions(endpoint: MetricsEndpoint(host: "h", port: 1))
        let report = ConsoleReport(context: RunContext(options: options, isAsync: false, serverStatistics: false))
        let block = report.levelBlock(level(metrics: twoGPUs, cpuNs: 1_234_000))
        #expect(block.hasSuffix("""
                Avg HTTP time: 300 usec (send/recv 15 usec + response wait 285 usec)
                Client CPU per request: 12 usec (user + system time of this process)
              Server Prometheus Metrics: 
                Avg GPU Utilization:
                  GPU-a : 25%
                  GPU-b : 75.5%
                Avg GPU Power Usage:
                  GPU-a : 120.5 watts
                  GPU-b : 230 watts
                Max GPU Memory Usage:
                  GPU-a : 4000000000 bytes
                  GPU-b : 9000000000 bytes
                Total GPU Memory:
                  GPU-a : 16000000000 bytes
                  GPU-b : 24000000000 bytes
                Avg CPU Utilization: 25.25%
                Max CPU Memory Usage: 2147483648 bytes
            """), "\(block)")
    }

    @Test("console: a server without GPUs has empty GPU sections; more than 16 GPUs point to the CSV")
    func consoleEdges() {
        var options = PerfAnalyzerOptions()
        options.serverMetrics = ServerMetricsOptions(endpoint: MetricsEndpoint(host: "h", port: 1))
        let report = ConsoleReport(context: RunContext(options: options, isAsync: false, serverStatistics: false))
        let cpuOnly = report.levelBlock(level(metrics: ServerMetrics(merging: [ServerMetricsRead.make(cpu: 0.5, cpuMemory: 10)]), cpuNs: nil))
        #expect(cpuOnly.hasSuffix("""
              Server Prometheus Metrics: 
                Avg GPU Utilization:
                Avg GPU Power Usage:
                Max GPU Memory Usage:
                Total GPU Memory:
                Avg CPU Utilization: 50%
                Max CPU Memory Usage: 10 bytes
            """), "\(cpuOnly)")
        #expect(!cpuOnly.contains("Client CPU per request"))
        var many: [String: Double] = [:]
        for index in 0..<17 { many["GPU-\(index)"] = 0.5 }
        let crowded = report.levelBlock(level(metrics: ServerMetrics(merging: [ServerMetricsRead.make(util: many)]), cpuNs: 0))
        #expect(crowded.hasSuffix("""
              Server Prometheus Metrics: 
                17 GPUs, too many to list here: -f with --verbose-csv writes each GPU's figures
            """), "\(crowded)")
        // Without --collect-metrics there is no metrics section.
        let plain = ConsoleReport(context: RunContext(options: PerfAnalyzerOptions(), isAsync: false, serverStatistics: false))
        #expect(!plain.levelBlock(level(metrics: nil, cpuNs: 1000)).contains("Prometheus"))
    }

    @Test("CSV: perf_analyzer's four GPU columns, then the server CPU and client CPU columns; cells uuid:value;")
    func csv() {
        let report = CSVReport(percentile: nil, verbose: true, serverStatistics: false, serverMetrics: true)
        #expect(report.header == "Concurrency,Inferences/Second,Client Send,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,request/response,response wait,Avg GPU Utilization,Avg GPU Power Usage,Max GPU Memory Usage,Total GPU Memory,Avg Server CPU Utilization,Max Server CPU Memory,Client CPU per Request,Client CPU Utilization,Client Run Queue Wait,Client Steal,Client Limited")
        #expect(report.row(level(metrics: twoGPUs, cpuNs: 1_234_000)) == "1,100,10,5,300,300,300,300,300,15,285,GPU-a:0.25;GPU-b:0.755;,GPU-a:120.5;GPU-b:230;,GPU-a:4000000000;GPU-b:9000000000;,GPU-a:16000000000;GPU-b:24000000000;,0.2525,2147483648,12,,,,")
        #expect(report.row(level(metrics: ServerMetrics(merging: []), cpuNs: nil)).hasSuffix(",285,,,,,,,,,,,"))
        // Without --collect-metrics only the client CPU column is added; without --verbose-csv nothing.
        #expect(CSVReport(percentile: nil, verbose: true, serverStatistics: false).header.hasSuffix(",response wait,Client CPU per Request,Client CPU Utilization,Client Run Queue Wait,Client Steal,Client Limited"))
        #expect(!CSVReport(percentile: nil, verbose: false, serverStatistics: false, serverMetrics: true).header.contains("GPU"))
        // Scheduled runs add the schedule columns, then the client's health.
        #expect(CSVReport(percentile: nil, verbose: true, serverStatistics: false, isScheduled: true, serverMetrics: true).header
            .hasSuffix(",Max Server CPU Memory,Client CPU per Request,Send Lag p50,Send Lag p99,Send Lag Max,p50 latency from intended send,p99 latency from intended send,Client CPU Utilization,Client Run Queue Wait,Client Steal,Client Limited"))
    }

    @Test("client CPU per request: the reported windows' CPU time over their requests")
    func cpuPerRequest() {
        #expect(level(metrics: nil, cpuNs: 5_000_000).clientCPUPerRequestNs == 50_000)
        #expect(level(metrics: nil, cpuNs: nil).clientCPUPerRequestNs == nil)
        #expect(CPUClock.processNs() > 0)
    }
}

extension ServerMetricsRead {
    static func make(util: [String: Double] = [:], power: [String: Double] = [:], used: [String: UInt64] = [:],
                     total: [String: UInt64] = [:], cpu: Double? = nil, cpuMemory: UInt64? = nil) -> ServerMetricsRead {
        var read = ServerMetricsRead()
        read.gpuUtilization = util
        read.gpuPowerWatts = power
        read.gpuMemoryUsedBytes = used
        read.gpuMemoryTotalBytes = total
        read.cpuUtilization = cpu
        read.cpuMemoryUsedBytes = cpuMemory
        return read
    }
}
