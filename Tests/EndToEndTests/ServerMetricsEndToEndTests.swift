import Foundation
import KServeSim
import Testing
@testable import PerfAnalyzerKit

/// `--collect-metrics` against kserve-sim's simulated metrics endpoint, a real process on loopback.
extension EndToEnd {
@Suite("Server metrics from kserve-sim's /metrics, and the client's CPU per request")
struct ServerMetricsEndToEndTests {
    private static let perf = BuiltTools.perfAnalyzer

    /// The lines of stderr that say something.
    private static func errorLines(_ result: CommandResult) -> [String] {
        result.stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    private static func csvPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).csv").path
    }

    @Test("both simulated GPUs and the CPU figures, within the simulated ranges, on the console and in the CSV; reads as often as asked",
          arguments: ["http", "grpc"])
    func collected(wire: String) async throws {
        let sim = try SimulatorProcess(arguments: ["--metrics-port", "0"])
        let csv = Self.csvPath()
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let url = wire == "grpc" ? sim.grpcURL : sim.url
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-i", wire, "-u", url, "--concurrency-range", "1:2",
                                                             "-p", "1000", "-s", "100", "-v", "--collect-metrics", "--metrics-url", sim.metricsURL,
                                                             "--metrics-interval", "100", "-f", csv, "--verbose-csv"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("WARNING"), "\(result.stderr)")
        let uuids = SimulatedMetrics.gpuUUIDs
        let blocks = MetricsBlock.all(in: result.stdout)
        #expect(blocks.count == 2, "\(result.stdout)")
        for block in blocks {
            #expect(block.titles == ["Avg GPU Utilization", "Avg GPU Power Usage", "Max GPU Memory Usage", "Total GPU Memory"])
            for (index, uuid) in uuids.enumerated() {
                let utilization = try #require(block.gpu["Avg GPU Utilization"]?[uuid], "\(result.stdout)")
                #expect((SimulatedMetrics.utilizationRanges[index].lowerBound * 100...SimulatedMetrics.utilizationRanges[index].upperBound * 100)
                    .contains(utilization))
                let power = try #require(block.gpu["Avg GPU Power Usage"]?[uuid])
                #expect(SimulatedMetrics.powerRanges[index].contains(power))
                let used = try #require(block.gpu["Max GPU Memory Usage"]?[uuid])
                #expect(SimulatedMetrics.memoryUsedRanges[index].contains(UInt64(used)))
                #expect(block.gpu["Total GPU Memory"]?[uuid] == Double(SimulatedMetrics.memoryTotals[index]))
            }
            let cpu = try #require(block.cpuUtilizationPercent)
            #expect((SimulatedMetrics.cpuUtilizationRange.lowerBound * 100...SimulatedMetrics.cpuUtilizationRange.upperBound * 100).contains(cpu))
            #expect(SimulatedMetrics.cpuMemoryUsedRange.contains(UInt64(try #require(block.cpuMemoryBytes))))
        }
        // Reads: one before any load, then one every 100 ms while each level's windows run (a
        // loaded machine may stretch the sleeps; reading once a window would fall far below).
        let windows = result.stdout.components(separatedBy: "  Pass [").count - 1
        let reads = try await sim.metricsReads()
        let expected = 1 + windows * 10
        #expect(reads >= 1 + windows * 5 && reads <= expected + 2 * blocks.count + 2,
                "kserve-sim served \(reads) reads over \(windows) windows of 1000 ms at one per 100 ms")

        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasSuffix(",response wait,Avg GPU Utilization,Avg GPU Power Usage,Max GPU Memory Usage,Total GPU Memory,Avg Server CPU Utilization,Max Server CPU Memory,Client CPU per Request,Client CPU Utilization,Client Run Queue Wait,Client Steal,Client Limited"))
        for row in lines.dropFirst() {
            let cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            // The GPU columns, then the server's CPU and memory, the client CPU per request and the four client-health columns.
            let gpu = Array(cells.suffix(11).prefix(4))
            for (column, cell) in gpu.enumerated() {
                let entries = cell.split(separator: ";").map { $0.split(separator: ":", maxSplits: 1) }
                #expect(cell.hasSuffix(";") && entries.map { String($0[0]) } == uuids, "\(cell)")
                for (index, entry) in entries.enumerated() {
                    let value = try #require(Double(String(entry[1])))
                    switch column {
                    case 0: #expect(SimulatedMetrics.utilizationRanges[index].contains(value))
                    case 1: #expect(SimulatedMetrics.powerRanges[index].contains(value))
                    case 2: #expect(SimulatedMetrics.memoryUsedRanges[index].contains(UInt64(value)))
                    default: #expect(UInt64(value) == SimulatedMetrics.memoryTotals[index])
                    }
                }
            }
            #expect(SimulatedMetrics.cpuUtilizationRange.contains(try #require(Double(cells[cells.count - 7]))))
            #expect(SimulatedMetrics.cpuMemoryUsedRange.contains(try #require(UInt64(cells[cells.count - 6]))))
            let cpuPerRequest = try #require(UInt64(cells[cells.count - 5]), "\(row)")
            #expect(cpuPerRequest > 0 && cpuPerRequest < 100_000)
        }
    }

    @Test("the client's CPU per request is reported without --collect-metrics, and no metrics section is")
    func clientCPUAlone() async throws {
        let sim = try SimulatorProcess()
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "--request-count", "500"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let cpu = try #require(reportedMicroseconds("    Client CPU per request", in: result.stdout), "\(result.stdout)")
        #expect(cpu > 0 && cpu < 100_000)
        #expect(!result.stdout.contains("Prometheus"))
    }

    @Test("a metrics URL nobody answers: one line naming --metrics-url, exit 99, not one request sent", arguments: ["http", "grpc"])
    func unreachable(wire: String) async throws {
        let sim = try SimulatorProcess(arguments: ["--metrics-port", "0"])
        // A port that was free a moment ago: nothing listens there.
        let closed = try freeLoopbackPort()
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-i", wire, "-u", wire == "grpc" ? sim.grpcURL : sim.url,
                                                             "--collect-metrics", "--metrics-url", "127.0.0.1:\(closed)/metrics"], timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(Self.errorLines(result) == ["error: --metrics-url http://127.0.0.1:\(closed)/metrics: could not connect to read the server's metrics (Connection refused)"])
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        let stats = try await sim.statistics(model: "identity_fp32")
        #expect(stats.inference_stats.success.count.value == 0)
        #expect(stats.inference_stats.fail.count.value == 0)
        #expect(try await sim.metricsReads() == 0)
    }

    @Test("a metrics URL that answers 404 (the inference port, say): one line, exit 99, nothing sent")
    func notMetrics() async throws {
        let sim = try SimulatorProcess()
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "--collect-metrics",
                                                             "--metrics-url", "\(sim.url)/metrics"], timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(Self.errorLines(result) == ["error: --metrics-url http://\(sim.url)/metrics: the server answered HTTP 404 instead of its metrics"])
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 0)
    }

    @Test("--metrics-interval or --metrics-url without --collect-metrics: refused in one line", arguments: [
        (["--metrics-interval", "100"], "error: --metrics-interval: only with --collect-metrics (it says how often to read the server's metrics)"),
        (["--metrics-url", "127.0.0.1:1/metrics"], "error: --metrics-url: only with --collect-metrics (it says where to read the server's metrics)"),
    ])
    func withoutCollect(arguments: [String], line: String) async throws {
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", "127.0.0.1:1"] + arguments, timeout: 30)
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(Self.errorLines(result) == [line])
    }

    @Test("a metrics endpoint slower than --metrics-interval: one warning, the run goes on")
    func slowEndpoint() async throws {
        let sim = try SimulatorProcess(arguments: ["--metrics-port", "0", "--metrics-delay-ms", "250"])
        let result = try await CommandRunner.run(Self.perf, ["-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "1", "-p", "1000",
                                                             "-s", "100", "--collect-metrics", "--metrics-url", sim.metricsURL,
                                                             "--metrics-interval", "100"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = Self.errorLines(result).filter { $0.contains("--metrics-interval") }
        #expect(warnings.count == 1, "\(result.stderr)")
        #expect(warnings.first?.hasPrefix("WARNING: reading the server's metrics took ") == true, "\(warnings)")
        #expect(warnings.first?.contains("longer than --metrics-interval (100 ms)") == true, "\(warnings)")
        #expect(MetricsBlock.all(in: result.stdout).first?.gpu["Avg GPU Utilization"]?.count == 2, "\(result.stdout)")
    }
}
}

/// A loopback port nothing listens on (bound, then released).
func freeLoopbackPort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw SimulatorProcess.SimulatorError(message: "no free loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
