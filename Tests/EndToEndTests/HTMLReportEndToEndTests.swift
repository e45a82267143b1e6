import Foundation
import Testing
@testable import PerfAnalyzerKit

/// `--html-report` and `perf-analyzer report` against kserve-sim: each page is opened in
/// headless chromium, and the figures its script drew (the marks' data-* attributes) are
/// compared with the console report of the same run.
extension EndToEnd {
@Suite("HTML report, drawn in chromium")
struct HTMLReportEndToEndTests {
    /// Where the screenshots go: $HTML_REPORT_SHOTS, else .build/html-report-shots.
    static let shots: URL = {
        let folder = ProcessInfo.processInfo.environment["HTML_REPORT_SHOTS"].map { URL(fileURLWithPath: $0) }
            ?? BuiltTools.repositoryRoot.appendingPathComponent(".build/html-report-shots")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The console's block of each level, keyed by the level as the report writes it.
    static func levelBlocks(_ stdout: String) -> [String: String] {
        var blocks: [String: String] = [:]
        var current: String?
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Request concurrency: ") {
                current = String(line.dropFirst("Request concurrency: ".count))
            } else if line.hasPrefix("Request Rate: ") {
                current = line.dropFirst("Request Rate: ".count).split(separator: " ").first.map(String.init)
            } else if line.hasPrefix("Inferences/Second vs. Client") {
                break  // the closing summary, whose lines also start with the level's name
            }
            if let current { blocks[current, default: ""] += line + "\n" }
        }
        return blocks
    }

    /// The number after `prefix` on the block's line that holds it.
    static func figure(_ prefix: String, in block: String) -> Double? {
        guard let range = block.range(of: prefix) else { return nil }
        return Double(block[range.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-" })
    }

    /// The block's `Client health:` line: its verdict ("ok" or "limited") and its figures.
    static func clientHealth(in block: String) -> (verdict: String, figures: String)? {
        guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("    Client health: ") }) else { return nil }
        let rest = line.dropFirst("    Client health: ".count)
        guard let open = rest.firstIndex(of: "("), rest.hasSuffix(")") else { return nil }
        let verdict = rest[..<open].trimmingCharacters(in: .whitespaces)
        return (verdict == "LIMITED" ? "limited" : verdict, String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]))
    }

    static func close(_ a: Double?, _ b: Double?, relative: Double = 1e-5) -> Bool {
        guard let a, let b else { return false }
        return abs(a - b) <= relative * max(abs(a), abs(b), 1e-9)
    }

    /// Opens the page, saves its screenshot under `name`, and reads back what it drew.
    static func draw(_ page: String, screenshot name: String) async throws -> DrawnMarks {
        let dom = try await HeadlessChromium.dumpDOM(page)
        #expect(dom.contains("data-drawn=\"true\""), "the page's script did not finish: \(dom.prefix(400))")
        let png = shots.appendingPathComponent("\(name).png").path
        try? FileManager.default.removeItem(atPath: png)
        try await HeadlessChromium.screenshot(page, to: png)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(bytes.count > 20_000 && bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(png): \(bytes.count) bytes")
        return DrawnMarks(dom: dom)
    }

    /// What every run's page shows: the summary row, the throughput-latency points (p50, p90,
    /// p99) and the spectrum of each level, equal to the console's figures, and the windows
    /// with a band around the mean of the merged ones.
    static func checkLevels(_ marks: DrawnMarks, console: String, stability: Double) throws -> [String: String] {
        let blocks = levelBlocks(console)
        try #require(!blocks.isEmpty, "no levels in the console: \(console)")
        for (level, block) in blocks {
            let throughput = figure("    Throughput: ", in: block)
            let row = try #require(marks.row(level), "no summary row for level \(level)")
            #expect(close(row.number("throughput"), throughput, relative: 1e-5), "level \(level): \(row.data) vs \(block)")
            #expect(row.number("requests") == figure("    Request count: ", in: block))
            // The Client column: the console's verdict and figures.
            let health = try #require(clientHealth(in: block), "level \(level): no Client health line in \(block)")
            #expect(row["client"] == health.verdict && row["client-figures"] == health.figures, "level \(level): \(row.data) vs \(health)")
            for percentile in ["p50", "p90", "p99"] {
                let point = try #require(marks.of("throughput-latency", ["series": percentile, "level": level]).first,
                                         "no \(percentile) point for level \(level)")
                #expect(close(point.number("x"), throughput, relative: 1e-5), "level \(level) \(percentile): \(point.data) vs \(block)")
                #expect(point.number("y") == figure("    \(percentile) latency: ", in: block), "level \(level) \(percentile): \(point.data) vs \(block)")
            }
            // The spectrum's p99 is the histogram's value, which the console truncates to usec.
            let p99 = try #require(marks.of("spectrum", ["level": level, "percentile": "99"]).first?.number("latency"))
            #expect(Double(Int(p99)) == figure("    p99 latency: ", in: block), "level \(level): spectrum p99 \(p99)")
            #expect(marks.of("spectrum", ["level": level]).count == LatencySpectrum.percentiles.count)

            let windows = marks.of("timeline-throughput", ["level": level])
            let merged = windows.filter { $0["merged"] == "true" }
            #expect(!windows.isEmpty && merged.count == min(3, windows.count), "level \(level): \(windows.count) windows, \(merged.count) merged")
            // The band: ± the stability percentage around the mean throughput of the merged windows.
            let band = try #require(marks.of("timeline-throughput", ["level": level]).first { $0.tag == "rect" }, "level \(level): no band")
            let mean = merged.compactMap { $0.number("y") }.reduce(0, +) / Double(max(1, merged.count))
            #expect(close(band.number("low"), mean * (1 - stability / 100), relative: 1e-6)
                && close(band.number("high"), mean * (1 + stability / 100), relative: 1e-6), "level \(level): band \(band.data) around \(mean)")
        }
        return blocks
    }

    @Test("concurrency sweep: levels, spectrum, windows and the server's breakdown as the console has them; then the export's report")
    func concurrencySweep() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let directory = try Self.scratch()
        let page = directory.appendingPathComponent("concurrency.html").path
        let export = directory.appendingPathComponent("export.json").path
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "1:3",
                                                                           "-p", "300", "-s", "40", "--html-report", page, "--profile-export-file", export])
        #expect(result.status == 0, "\(result.stderr)")
        let marks = try await Self.draw(page, screenshot: "concurrency")
        #expect(marks.sections == ["summary", "throughput-latency", "spectrum", "timeline", "server"])
        let blocks = try Self.checkLevels(marks, console: result.stdout, stability: 40)
        #expect(blocks.keys.sorted() == ["1", "2", "3"])
        for (level, block) in blocks {
            for part in ["queue", "compute input", "compute infer", "compute output"] {
                let bar = marks.of("server", ["level": level, "part": part]).first
                #expect(bar?.number("value") == Self.figure(" + \(part) ", in: block), "level \(level) \(part): \(bar?.data ?? [:])")
            }
            #expect(marks.of("server", ["level": level]).first?.number("request") == Self.figure("Avg request latency: ", in: block))
        }

        // The same run from its export: the counts, throughput and latencies of the last three windows.
        let fromExport = directory.appendingPathComponent("from-export.html").path
        let report = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["report", export, "-o", fromExport, "-s", "40"])
        #expect(report.status == 0 && report.stderr.isEmpty, "\(report.stderr)")
        let exported = DrawnMarks(dom: try await HeadlessChromium.dumpDOM(fromExport))
        #expect(exported.sections == ["summary", "throughput-latency", "spectrum", "timeline"])
        for (level, block) in blocks {
            let row = try #require(exported.row(level), "no row for level \(level) in the export's report")
            // A request whose answer arrived just before a cut but was handed over after it is in the
            // next window for the run; the export keeps only its response time, so a few may move.
            #expect(Self.close(row.number("requests"), Self.figure("    Request count: ", in: block), relative: 0.01), "level \(level): \(row.data)")
            // Batch size 1: requests per second are inferences per second.
            #expect(Self.close(row.number("throughput"), Self.figure("    Throughput: ", in: block), relative: 0.01), "level \(level): \(row.data)")
            #expect(Self.close(row.number("p99"), Self.figure("    p99 latency: ", in: block), relative: 0.01), "level \(level): \(row.data)")
            // Client health judged again from the export's figures: the run's words exactly.
            let health = try #require(Self.clientHealth(in: block))
            #expect(row["client"] == health.verdict && row["client-figures"] == health.figures, "level \(level): \(row.data) vs \(health)")
        }
    }

    @Test("request-rate sweep: send lag and latency from the intended send time as the console has them")
    func requestRateSweep() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let page = try Self.scratch().appendingPathComponent("rate.html").path
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", sim.url, "--request-rate-range", "200:400:200",
                                                                           "-p", "300", "-s", "40", "--html-report", page])
        #expect(result.status == 0, "\(result.stderr)")
        let marks = try await Self.draw(page, screenshot: "request-rate")
        #expect(marks.sections == ["summary", "throughput-latency", "spectrum", "timeline", "server", "schedule"])
        let blocks = try Self.checkLevels(marks, console: result.stdout, stability: 40)
        #expect(blocks.keys.sorted() == ["200", "400"])
        for (level, block) in blocks {
            #expect(marks.of("send-lag", ["level": level, "part": "p50"]).first?.number("value") == Self.figure("Send lag: p50 ", in: block))
            #expect(marks.of("send-lag", ["level": level, "part": "p99"]).first?.number("value") == Self.figure(" usec, p99 ", in: block))
            #expect(marks.of("from-intended", ["level": level, "part": "p99 from intended"]).first?.number("value")
                == Self.figure("Latency from intended send time: p50 ", in: block).flatMap { _ in
                    block.range(of: "Latency from intended send time:").flatMap { Self.figure("p99 ", in: String(block[$0.upperBound...])) } })
            #expect(!marks.of("spectrum-from-intended", ["level": level]).isEmpty)
        }
    }

    @Test("sequence run: sequences per second in the summary, as the console counts them")
    func sequenceRun() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let directory = try Self.scratch()
        let data = directory.appendingPathComponent("streams.json").path
        try #"{"data": [[{"INPUT": [1]}, {"INPUT": [2]}, {"INPUT": [3]}], [{"INPUT": [10]}, {"INPUT": [20]}]]}"#
            .write(toFile: data, atomically: true, encoding: .utf8)
        let page = directory.appendingPathComponent("sequence.html").path
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "sequence_accumulator", "-u", sim.url, "--input-data", data,
                                                                           "--concurrency-range", "2", "-p", "300", "-s", "40", "--html-report", page])
        #expect(result.status == 0, "\(result.stderr)")
        let marks = try await Self.draw(page, screenshot: "sequence")
        let blocks = try Self.checkLevels(marks, console: result.stdout, stability: 40)
        let block = try #require(blocks["2"])
        #expect(Self.close(marks.row("2")?.number("sequences"), block.range(of: "Sequence count: ").flatMap { range in
            Self.figure("(", in: String(block[range.upperBound...])) }, relative: 1e-5), "\(marks.row("2")?.data ?? [:]) vs \(block)")
        #expect(!marks.sections.contains("tokens") && !marks.sections.contains("schedule"))
    }

    @Test("OpenAI streamed run: time to first token, inter-token latency and token throughput as the console has them; the export's report too")
    func openAIStreamed() async throws {
        let sim = try SimulatorProcess(arguments: ["--openai-ttft-ms", "20", "--openai-itl-ms", "2"])
        defer { sim.stop() }
        let directory = try Self.scratch()
        let body = #"{"model":"sim-llm","messages":[{"role":"user","content":"one two"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}"#
        let page = directory.appendingPathComponent("openai.html").path
        let export = directory.appendingPathComponent("export.json").path
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "sim-llm", "--service-kind", "openai", "--endpoint", "v1/chat/completions",
                                                                           "-u", sim.url, "--input-data", try openAIInputData([body]),
                                                                           "--concurrency-range", "1:2", "-p", "500", "-s", "50",
                                                                           "--html-report", page, "--profile-export-file", export], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let marks = try await Self.draw(page, screenshot: "openai")
        #expect(marks.sections.last == "tokens" && !marks.sections.contains("server"), "\(marks.sections)")
        let blocks = try Self.checkLevels(marks, console: result.stdout, stability: 50)
        for (level, block) in blocks {
            let ttft = block.range(of: "Time to first token: ").map { String(block[$0.upperBound...]) } ?? ""
            let itl = block.range(of: "Inter-token latency: ").map { String(block[$0.upperBound...]) } ?? ""
            #expect(marks.of("ttft", ["level": level, "part": "p99"]).first?.number("value") == Self.figure("p99 ", in: ttft), "level \(level)")
            #expect(marks.of("itl", ["level": level, "part": "p50"]).first?.number("value") == Self.figure("p50 ", in: itl), "level \(level)")
            #expect(Self.close(marks.of("token-throughput", ["level": level]).first?.number("value"),
                               Self.figure("Output token throughput: ", in: block), relative: 1e-5), "level \(level)")
        }

        // From the export: the token section again, its time to first token near the run's.
        let fromExport = directory.appendingPathComponent("from-export.html").path
        let report = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["report", export, "-o", fromExport, "-s", "50"])
        #expect(report.status == 0, "\(report.stderr)")
        let exported = DrawnMarks(dom: try await HeadlessChromium.dumpDOM(fromExport))
        #expect(exported.sections.last == "tokens")
        for (level, block) in blocks {
            #expect(Self.close(exported.row(level)?.number("requests"), Self.figure("    Request count: ", in: block), relative: 0.05))
            let ttft = block.range(of: "Time to first token: ").map { String(block[$0.upperBound...]) } ?? ""
            #expect(Self.close(exported.of("ttft", ["level": level, "part": "p50"]).first?.number("value"), Self.figure("p50 ", in: ttft), relative: 0.02),
                    "level \(level): \(exported.of("ttft", ["level": level]).map(\.data))")
        }
    }

    @Test("report: a missing file, a file that is not an export, bad JSON and a missing -o are one line each, and nothing is written")
    func reportBadInput() async throws {
        let directory = try Self.scratch()
        let out = directory.appendingPathComponent("out.html").path
        let notExport = directory.appendingPathComponent("not-export.json").path
        try #"{"experiments": [{"experiment": {"mode": "concurrency", "value": 1}, "requests": [{"timestamp": "soon"}], "window_boundaries": []}]}"#
            .write(toFile: notExport, atomically: true, encoding: .utf8)
        let notJSON = directory.appendingPathComponent("text.json").path
        try "hello".write(toFile: notJSON, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["report", directory.appendingPathComponent("missing.json").path, "-o", out], "missing.json: no such file"),
            (["report", notExport, "-o", out], "not a profile export: at experiments[0].requests[0].timestamp: expected a number"),
            (["report", notJSON, "-o", out], "text.json: not a profile export: expected JSON"),
            (["report", notExport], "-o"),
        ]
        for (arguments, expected) in cases {
            let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, arguments, timeout: 30)
            let lines = result.stderr.split(separator: "\n")
            #expect(result.status != 0 && lines.count == 1 && result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // A run's --html-report into a folder that does not exist: one line before any load.
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let run = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", sim.url,
                                                                        "--html-report", directory.appendingPathComponent("no/such/page.html").path], timeout: 30)
        #expect(run.status != 0 && run.stderr.contains("--html-report") && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }
}
}
