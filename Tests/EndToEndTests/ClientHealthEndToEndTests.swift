import Foundation
import Testing

extension EndToEnd {
/// Issue 18's client health against kserve-sim: a client held to one core and asked for far more
/// than it can send is marked as the limit of its level (console, verbose CSV, export); a client
/// that mostly waits on a slow model is not.
@Suite("Client health: the client marks levels it limited")
struct ClientHealthEndToEndTests {
    private static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "client-health-\(name)-\(UUID().uuidString)"
    }

    /// The export's experiments' `client_health` objects.
    private static func exportedHealth(_ path: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let experiments = try #require(document["experiments"] as? [[String: Any]])
        return experiments.compactMap { $0["client_health"] as? [String: Any] }
    }

    /// The verbose CSV's client-health cells of its one row, by column name.
    private static func csvHealth(_ path: String) throws -> [String: String] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        try #require(lines.count >= 2)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let cells = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var byName: [String: String] = [:]
        for (name, cell) in zip(header, cells) where name.hasPrefix("Client ") { byName[name] = cell }
        return byName
    }

    @Test("one core, a rate far beyond it: LIMITED with the reason and what to change, in all three reports")
    func starvedClient() async throws {
        let sim = try SimulatorProcess()
        defer { sim.stop() }
        let csv = Self.temporaryPath("starved.csv")
        let export = Self.temporaryPath("starved.json")
        let page = Self.temporaryPath("starved") + ".html"  // chromium runs the script of a file named .html
        defer { for path in [csv, export, page] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try await CommandRunner.run("/usr/bin/taskset", [
            "-c", "0", BuiltTools.perfAnalyzer, "-m", "identity_fp32", "-u", sim.url,
            "--request-rate-range", "200000", "--request-count", "30000", "-f", csv, "--verbose-csv",
            "--profile-export-file", export, "--html-report", page,
        ], timeout: 180)
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("    Client health: ") }, "\(result.stdout)")
        #expect(line.hasPrefix("    Client health: LIMITED (CPU "), "\(line)")
        #expect(line.contains("of 1 core"), "\(line)")
        let warning = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("[WARNING] The client limited this level") },
                                   "\(result.stdout)")
        #expect(warning.contains("perf-analyzer") && warning.contains("cores"), "\(warning)")
        let cells = try Self.csvHealth(csv)
        let limited = try #require(cells["Client Limited"])
        #expect(limited != "no" && !limited.isEmpty, "\(cells)")
        #expect(limited.split(separator: ";").allSatisfy { ["cpu", "schedule", "starved", "steal"].contains($0) }, "\(cells)")
        let health = try Self.exportedHealth(export)
        #expect(health.count == 1)
        #expect(health.first?["limited"] as? Bool == true, "\(health)")
        #expect(health.first?["cores"] as? Int == 1, "\(health)")
        #expect((health.first?["send_lag_p90_ns"] as? Int ?? 0) > 0, "\(health)")
        // The HTML report's summary marks the level, with the CSV's causes and the console's advice.
        let dom = try await HeadlessChromium.dumpDOM(page)
        let marks = DrawnMarks(dom: dom)
        let row = try #require(marks.row("200000"), "\(marks.marks.filter { $0.tag == "tr" })")
        #expect(row["client"] == "limited" && row["client-limits"] == limited, "\(row.data) vs \(cells)")
        #expect(marks.marks.contains { $0.tag == "p" && $0["client-advice"] == "200000" }, "no advice paragraph")
        #expect(dom.contains("Request rate 200000: " + warning.dropFirst("[WARNING] ".count)), "the page lacks the console's advice: \(warning)")
    }

    @Test("a client that mostly waits on a slow model: ok, and no warning")
    func quietClient() async throws {
        let sim = try SimulatorProcess(arguments: ["--delay-us", "5000"])
        defer { sim.stop() }
        let csv = Self.temporaryPath("quiet.csv")
        let export = Self.temporaryPath("quiet.json")
        defer { for path in [csv, export] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, [
            "-m", "identity_fp32", "-u", sim.url, "--concurrency-range", "1", "--request-count", "200",
            "-f", csv, "--verbose-csv", "--profile-export-file", export,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("    Client health: ") }, "\(result.stdout)")
        #expect(line.hasPrefix("    Client health: ok (CPU "), "\(line)")
        #expect(!result.stdout.contains("[WARNING] The client limited"), "\(result.stdout)")
        let cells = try Self.csvHealth(csv)
        #expect(cells["Client Limited"] == "no", "\(cells)")
        #expect(Double(cells["Client CPU Utilization"] ?? "") ?? 100 < 90, "\(cells)")
        let health = try Self.exportedHealth(export)
        #expect(health.first?["limited"] as? Bool == false, "\(health)")
        #expect(health.first?["limits"] as? [String] == [], "\(health)")
    }
}
}
