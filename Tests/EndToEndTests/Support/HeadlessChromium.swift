import Foundation

/// Debian's `chromium`, headless: the page a report wrote, after its script ran, as the DOM
/// and as a screenshot. Missing, it is an error (scripts/test.sh installs it), never a skip.
enum HeadlessChromium {
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static var path: String {
        get throws {
            for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
            throw Missing(description: "chromium is not installed (apt-get install chromium; scripts/test.sh installs it)")
        }
    }

    /// Headless runs keep their profile in a fresh folder, so two runs never share one.
    private static func arguments(_ extra: [String], page: String) -> [String] {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)").path
        return ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"] + extra
            + [URL(fileURLWithPath: page).absoluteString]
    }

    /// The document once the page's scripts ran.
    static func dumpDOM(_ page: String) async throws -> String {
        let result = try await CommandRunner.run(try path, arguments(["--dump-dom"], page: page), timeout: 90)
        guard result.status == 0, !result.stdout.isEmpty else {
            throw Missing(description: "chromium --dump-dom \(page) failed (status \(result.status)): \(result.stderr.suffix(500))")
        }
        return result.stdout
    }

    /// A 1280×2400 PNG of the page.
    static func screenshot(_ page: String, to png: String) async throws {
        let result = try await CommandRunner.run(try path, arguments(["--screenshot=\(png)", "--window-size=1280,2400", "--hide-scrollbars"], page: page),
                                                 timeout: 90)
        guard result.status == 0, FileManager.default.fileExists(atPath: png) else {
            throw Missing(description: "chromium --screenshot \(page) failed (status \(result.status)): \(result.stderr.suffix(500))")
        }
    }
}

/// The marks a report page drew: every element with data-* attributes, as name → value.
struct DrawnMarks {
    struct Mark {
        var tag: String
        var data: [String: String]
        subscript(_ name: String) -> String? { data[name] }
        func number(_ name: String) -> Double? { data[name].flatMap(Double.init) }
    }

    var marks: [Mark]

    init(dom: String) {
        let tag = try! NSRegularExpression(pattern: #"<([a-z]+)\s([^>]*data-[^>]*)>"#)
        let attribute = try! NSRegularExpression(pattern: #"data-([a-z0-9-]+)="([^"]*)""#)
        let text = dom as NSString
        marks = tag.matches(in: dom, range: NSRange(location: 0, length: text.length)).map { match in
            let attributes = text.substring(with: match.range(at: 2))
            var data: [String: String] = [:]
            for found in attribute.matches(in: attributes, range: NSRange(location: 0, length: (attributes as NSString).length)) {
                data[(attributes as NSString).substring(with: found.range(at: 1))] = (attributes as NSString).substring(with: found.range(at: 2))
            }
            return Mark(tag: text.substring(with: match.range(at: 1)), data: data)
        }
    }

    /// The marks of one chart (`data-chart`), narrowed by other attributes.
    func of(_ chart: String, _ filters: [String: String] = [:]) -> [Mark] {
        marks.filter { mark in mark["chart"] == chart && filters.allSatisfy { key, value in mark[key] == value } }
    }

    /// The page's sections, in order.
    var sections: [String] { marks.filter { $0.tag == "section" }.compactMap { $0["section"] } }

    /// The summary table's row of a level.
    func row(_ level: String) -> Mark? { marks.first { $0.tag == "tr" && $0["level"] == level } }
}
