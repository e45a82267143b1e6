import Foundation
import KServeProtocol
import NIOPosix
import Testing
@testable import PerfAnalyzerKit

/// perf_analyzer's Triton-only options against the real server: trace settings, BLS
/// composing models, the response cache, the deprecated flags and `-v`'s client overhead.
/// Each test checks what Triton itself did: its statistics, its trace file, its models' records.
extension EndToEnd {
@Suite("Triton trace settings, BLS models and the response cache")
struct TritonServerFeaturesTests {
    /// One model's counters from Triton, summed over versions.
    struct ModelCounters {
        var success: UInt64 = 0
        var cacheHits: UInt64 = 0
        var cacheMisses: UInt64 = 0
    }

    private func counters(_ triton: TritonEnvironment) async throws -> [String: ModelCounters] {
        let stats = try await withControl(triton) { try await $0.allStatistics() }
        var result: [String: ModelCounters] = [:]
        for entry in stats.model_stats {
            result[entry.name, default: ModelCounters()].success += entry.inference_stats.success.count.value
            result[entry.name, default: ModelCounters()].cacheHits += entry.inference_stats.cache_hit?.count.value ?? 0
            result[entry.name, default: ModelCounters()].cacheMisses += entry.inference_stats.cache_miss?.count.value ?? 0
        }
        return result
    }

    private func withControl<T: Sendable>(_ triton: TritonEnvironment,
                                          _ body: @Sendable (KServeHTTPClient) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connection = HTTPControlClient(group: group, address: try ServerAddress(parsing: triton.httpURL, defaultPort: 8000), headers: [])
        do {
            let value = try await body(KServeHTTPClient(connection: connection))
            await connection.close()
            try await group.shutdownGracefully()
            return value
        } catch {
            await connection.close()
            try await group.shutdownGracefully()
            throw error
        }
    }

    /// The figures under one `  <model>, version: N` heading of the Composing models list.
    private func composingSection(_ model: String, in stdout: String) -> String? {
        guard let start = stdout.range(of: "  \(model), version: ") else { return nil }
        let rest = stdout[start.upperBound...]
        let end = rest.range(of: "\n\n")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    @Test("--trace-level/--trace-rate/--trace-count/--log-frequency reach Triton over HTTP and gRPC; its trace file holds the traces")
    func traceSettings() async throws {
        let triton = try TritonEnvironment.current()
        let traceFile = try #require(ProcessInfo.processInfo.environment["TRITON_TRACE_FILE"].flatMap { $0.isEmpty ? nil : $0 },
                                     "TRITON_TRACE_FILE is not set: run the suite with scripts/test.sh")
        let directory = URL(fileURLWithPath: traceFile).deletingLastPathComponent()
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        defer {
            // Tracing is global in Triton: turn it off again for the tests that follow.
            let off = "{\"trace_level\":[\"OFF\"],\"trace_rate\":\"1000\",\"trace_count\":\"-1\",\"log_frequency\":\"0\"}"
            let url = triton.httpURL
            let done = DispatchSemaphore(value: 0)
            Task {
                let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
                let connection = HTTPControlClient(group: group, address: try ServerAddress(parsing: url, defaultPort: 8000), headers: [])
                _ = try? await connection.post("/v2/trace/setting", json: off)
                await connection.close()
                try? await group.shutdownGracefully()
                done.signal()
            }
            done.wait()
        }

        // Every request traced (rate 1), ten traces in all, written to a file once ten are in.
        let http = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", triton.httpURL, "--request-count", "30",
            "--trace-level", "TIMESTAMPS", "--trace-rate", "1", "--trace-count", "10", "--log-frequency", "10",
        ])
        #expect(http.status == 0, "\(http.stderr)")
        var traced: [Int: String] = [:]
        for _ in 0..<100 {
            let files = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).subtracting(before)
            traced = [:]
            for file in files where file.hasPrefix(URL(fileURLWithPath: traceFile).lastPathComponent) {
                let data = try Data(contentsOf: directory.appendingPathComponent(file))
                let entries = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
                for entry in entries {
                    if let id = entry["id"] as? Int, let model = entry["model_name"] as? String { traced[id] = model }
                }
            }
            if traced.count >= 10 { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(traced.count == 10, "traces written: \(traced)")
        #expect(Set(traced.values) == ["identity_fp32"])

        // Over gRPC, and two levels at once: read back from the server's settings.
        let grpc = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", triton.grpcURL, "-i", "grpc", "--request-count", "10",
            "--trace-level", "TIMESTAMPS", "--trace-level", "TENSORS", "--trace-rate", "7", "--trace-count", "-1", "--log-frequency", "0",
        ])
        #expect(grpc.status == 0, "\(grpc.stderr)")
        let settings = try await withControl(triton) { try await $0.connection.get("/v2/trace/setting").text }
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(settings.utf8)) as? [String: Any])
        #expect(parsed["trace_level"] as? [String] == ["TIMESTAMPS", "TENSORS"], "\(settings)")
        #expect(parsed["trace_rate"] as? String == "7")
        #expect(parsed["trace_count"] as? String == "-1")
        #expect(parsed["log_frequency"] as? String == "0")
    }

    @Test("--bls-composing-models: the called models' statistics are reported as composing models, with their CSV files")
    func blsComposingModels() async throws {
        let triton = try TritonEnvironment.current()
        let before = try await counters(triton)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("bls.csv").path
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "bls_add_sub_identity", "-u", triton.httpURL, "--request-count", "60",
            "--bls-composing-models", "add_sub, identity_int32:1", "-f", csv,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let after = try await counters(triton)
        // The BLS model called each composing model once per request: Triton counted 60 each.
        for model in ["bls_add_sub_identity", "add_sub", "identity_int32"] {
            #expect((after[model]?.success ?? 0) - (before[model]?.success ?? 0) == 60, "\(model)")
        }
        #expect(result.stdout.contains("  Composing models: \n"))
        for model in ["add_sub", "identity_int32"] {
            let section = try #require(composingSection(model, in: result.stdout), "no section for \(model) in:\n\(result.stdout)")
            #expect(section.hasPrefix("1\n"))
            #expect(reportedCount("Successful request count", in: section) == 60)
            let file = directory.appendingPathComponent("\(model)_v1.bls.csv").path
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.first?.hasPrefix("Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv") == true)
        }

        // Without the flag Triton cannot say what a BLS model calls: no composing section.
        let plain = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "bls_add_sub_identity", "-u", triton.httpURL, "--request-count", "10",
        ])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(!plain.stdout.contains("Composing models"))

        // A model the server does not have: one line naming the flag, before any load.
        let beforeMissing = try await counters(triton)
        let missing = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "bls_add_sub_identity", "-u", triton.httpURL, "--request-count", "10", "--bls-composing-models", "add_sub,no_such_model",
        ])
        #expect(missing.status != 0)
        let lines = missing.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("--bls-composing-models") && lines[0].contains("no_such_model"), "\(missing.stderr)")
        #expect(try await counters(triton)["bls_add_sub_identity"]?.success == beforeMissing["bls_add_sub_identity"]?.success)
    }

    @Test("response cache: hit and miss counts equal Triton's, misses equal what the model received, and the CSV has the cache columns", arguments: ["http", "grpc"])
    func responseCache(wire: String) async throws {
        let triton = try TritonEnvironment.current()
        let model = "identity_fp32_cached"
        let before = try await counters(triton)
        let recordedBefore = triton.recordedCount(model: model)
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", model, "-u", wire == "http" ? triton.httpURL : triton.grpcURL, "-i", wire, "--input-data", "zero",
            "--request-count", "200", "-f", csv,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let after = try await counters(triton)
        let hits = try #require(reportedCount("Cache hit count", in: result.stdout), "\(result.stdout)")
        let misses = try #require(reportedCount("Cache miss count", in: result.stdout))
        #expect(hits + misses == 200)
        #expect(UInt64(hits) == (after[model]?.cacheHits ?? 0) - (before[model]?.cacheHits ?? 0))
        #expect(UInt64(misses) == (after[model]?.cacheMisses ?? 0) - (before[model]?.cacheMisses ?? 0))
        // Only a miss reaches the model; every request was the same, so at most the first missed.
        let received = triton.recordedCount(model: model) - recordedBefore
        #expect(misses == received)
        #expect(misses <= 1)
        #expect(result.stdout.contains("      Average Cache Hit Latency: "))
        let header = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains(",Server Compute Output,Server Cache Hit,Server Cache Miss,Client Recv,"), "\(header)")
    }

    @Test("deprecated -t and -z run as --concurrency-range and --input-data zero, each with a notice")
    func deprecatedFlags() async throws {
        let triton = try TritonEnvironment.current()
        let recordedBefore = triton.recordedCount(model: "identity_fp32")
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", triton.httpURL, "-t", "2", "-z", "--request-count", "40",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning: -t 2 is deprecated; read as --concurrency-range 2:2:1"))
        #expect(result.stderr.contains("warning: -z is deprecated; read as --input-data zero"))
        #expect(result.stdout.contains("Concurrency: 2, throughput:"))
        let received = try triton.recordedRequests(model: "identity_fp32", from: recordedBefore)
        #expect(received.count == 40)
        #expect(received.allSatisfy { $0.inputs[0].data?.allSatisfy { $0 == .int(0) || $0 == .double(0) } == true })
    }

    @Test("-v: the client's overhead per level, a share of the load threads' time")
    func clientOverhead() async throws {
        let triton = try TritonEnvironment.current()
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", triton.httpURL, "-v", "--request-count", "300", "--concurrency-range", "2",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("    Avg client overhead: ") }, "\(result.stdout)")
        let percent = try #require(Double(line.dropFirst("    Avg client overhead: ".count).dropLast()))
        #expect(percent > 0 && percent <= 100)
    }
}
}
