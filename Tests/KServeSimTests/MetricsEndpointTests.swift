import Foundation
import KServeSim
import Testing

/// kserve-sim's `--metrics-port`: Prometheus text at `GET /metrics`, its reads counted.
@Suite("kserve-sim metrics endpoint")
struct MetricsEndpointTests {
    /// Runs `body` against a simulator serving metrics, and always stops it after.
    private func withMetrics(delayMilliseconds: Int = 0, _ body: (KServeSimulator) async throws -> Void) async throws {
        let simulator = KServeSimulator(configuration: .init(httpPort: 0, grpcPort: 0, threads: 1, metricsPort: 0,
                                                             metricsDelayMilliseconds: delayMilliseconds))
        try await simulator.start()
        do {
            try await body(simulator)
            try await simulator.stop()
        } catch {
            try? await simulator.stop()
            throw error
        }
    }

    @Test func servesBothGPUsAndTheCPUAndCountsItsReads() async throws {
        try await withMetrics { simulator in
            let client = TestClient(port: try #require(simulator.metricsPort))
            #expect(simulator.metricsReads == 0)
            let first = try await client.get("/metrics")
            #expect(first.status == .ok)
            #expect(first.headers["content-type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = first.text
            for uuid in SimulatedMetrics.gpuUUIDs {
                for name in ["nv_gpu_utilization", "nv_gpu_power_usage", "nv_gpu_memory_used_bytes", "nv_gpu_memory_total_bytes"] {
                    #expect(text.contains("\(name){") && text.contains("gpu_uuid=\"\(uuid)\"}"), "\(name) \(uuid)")
                }
            }
            // The second GPU's labels are not gpu_uuid alone: a reader that expects exactly that misses it.
            #expect(text.contains("nv_gpu_utilization{device=\"1\",gpu_uuid=\"\(SimulatedMetrics.gpuUUIDs[1])\"}"))
            #expect(text.contains("# TYPE nv_cpu_utilization gauge\nnv_cpu_utilization 0."))
            #expect(text.contains("\nnv_cpu_memory_used_bytes "))
            #expect(text.contains("\nkserve_sim_metrics_reads_total 1\n"))
            let second = try await client.get("/metrics?x=1")
            #expect(second.text.contains("\nkserve_sim_metrics_reads_total 2\n"))
            #expect(second.text != text, "values move from one read to the next")
            #expect(try await client.get("/v2/health/ready").status == .notFound)
            #expect(simulator.metricsReads == 2)
        }
    }

    @Test func everyReadStaysInTheDocumentedRanges() {
        for read in 1...20 {
            let page = SimulatedMetrics.page(read: read)
            func value(_ prefix: String) -> Double? {
                page.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count).split(separator: " ")[0]) }
            }
            let uuids = SimulatedMetrics.gpuUUIDs
            #expect(SimulatedMetrics.utilizationRanges[0].contains(value("nv_gpu_utilization{gpu_uuid=\"\(uuids[0])\"} ") ?? -1))
            #expect(SimulatedMetrics.utilizationRanges[1].contains(value("nv_gpu_utilization{device=\"1\",gpu_uuid=\"\(uuids[1])\"} ") ?? -1))
            #expect(SimulatedMetrics.powerRanges[1].contains(value("nv_gpu_power_usage{device=\"1\",gpu_uuid=\"\(uuids[1])\"} ") ?? -1))
            #expect(SimulatedMetrics.memoryUsedRanges[0].contains(UInt64(value("nv_gpu_memory_used_bytes{gpu_uuid=\"\(uuids[0])\"} ") ?? -1)))
            #expect(SimulatedMetrics.cpuUtilizationRange.contains(value("nv_cpu_utilization ") ?? -1))
            #expect(SimulatedMetrics.cpuMemoryUsedRange.contains(UInt64(value("nv_cpu_memory_used_bytes ") ?? -1)))
        }
    }

    @Test func aDelayHoldsEachAnswerBack() async throws {
        try await withMetrics(delayMilliseconds: 300) { simulator in
            let started = Date()
            let response = try await TestClient(port: try #require(simulator.metricsPort)).get("/metrics")
            #expect(response.status == .ok)
            #expect(Date().timeIntervalSince(started) >= 0.29)
        }
    }

    @Test(arguments: [
        (["--metrics-delay-ms", "10"], "--metrics-delay-ms needs --metrics-port"),
        (["--metrics-port", "0", "--metrics-delay-ms=-1"], "--metrics-delay-ms must be in 0...3600000"),
        (["--metrics-port", "70000"], "--metrics-port must be in 0...65535"),
    ])
    func badMetricsOptionIsOneLine(_ flags: [String], _ expected: String) throws {
        let server = try CommandLineTests.launch(["--http-port", "0", "--grpc-port", "0"] + flags)
        let ended = ChildExit.wait(server.process)
        #expect(ended?.signal == nil && ended?.code != nil && ended?.code != 0, "ended: \(String(describing: ended))")
        let complaint = String(decoding: server.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(complaint.split(separator: "\n").count == 1 && complaint.contains(expected), "\(complaint)")
    }

    @Test func announcesTheMetricsPortAsAThirdLine() async throws {
        let server = try CommandLineTests.launch(["--http-port", "0", "--grpc-port", "0", "--threads", "1", "--metrics-port", "0"])
        let announced = CommandLineTests.lines(server.stdout, count: 3)
        let port = try #require(CommandLineTests.port(in: announced.last, after: "kserve-sim: metrics listening on 127.0.0.1:"),
                                "got \(announced)")
        #expect(try await TestClient(port: port).get("/metrics").status == .ok)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(ChildExit.wait(server.process) == .init(code: 0, signal: nil))
    }
}
