import Foundation

/// The report as one self-contained HTML file: styles, script and the report's JSON inline,
/// nothing fetched, so it opens offline and can be mailed as it is.
enum HTMLPage {
    struct WriteFailure: Error, CustomStringConvertible {
        var description: String
    }

    static func render(_ model: HTMLReportModel) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // The model holds only numbers and strings; encoding it cannot fail.
        let json = String(decoding: (try? encoder.encode(model)) ?? Data("{}".utf8), as: UTF8.self)
        // Inside <script>, "</" could close the element early: written as an escape JSON reads back.
        let blob = json.replacingOccurrences(of: "</", with: "<\\/")
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>perf-analyzer report: \(escaped(model.model))</title>
        <style>\(style)</style>
        </head>
        <body>
        <header><h1 id="title"></h1><p id="subtitle"></p></header>
        <main id="report"></main>
        <noscript>This report draws its charts with JavaScript; the data is in the report-data element of this file.</noscript>
        <script type="application/json" id="report-data">\(blob)</script>
        <script>\(HTMLPageScript.text)</script>
        </body>
        </html>

        """
    }

    static func write(_ model: HTMLReportModel, to path: String) throws(WriteFailure) {
        do {
            try render(model).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            let reason = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
            throw WriteFailure(description: "the report could not be written: \(reason ?? error.localizedDescription)")
        }
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private static let style = """
    body { font: 14px/1.4 system-ui, sans-serif; color: #222; margin: 16px auto; max-width: 1240px; padding: 0 12px; }
    h1 { font-size: 22px; margin: 0; } h2 { font-size: 17px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; }
    #subtitle, .note { color: #555; margin: 4px 0 8px; }
    table { border-collapse: collapse; } th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eee; }
    th { background: #f4f4f4; } td.limited { color: #b3261e; font-weight: 600; } td.healthy { color: #2e7d32; }
    .warning { color: #b3261e; margin: 6px 0; }
    .chart { display: block; margin: 6px 0; } .plot { fill: #fcfcfc; stroke: #bbb; } .grid { stroke: #eee; }
    .tick { font-size: 11px; fill: #555; } .axis-label { font-size: 12px; fill: #333; } .chart-title { font-size: 13px; font-weight: 600; }
    .point-label { font-size: 11px; fill: #333; } .band { fill: #2e9e5b; fill-opacity: 0.15; stroke: #2e9e5b; stroke-opacity: 0.4; }
    .legend { font-size: 12px; margin: 0 0 8px 64px; } .legend-item { margin-right: 14px; white-space: nowrap; }
    .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
    section.half { display: inline-block; vertical-align: top; width: 600px; } section.half + section.half { margin-left: 8px; }
    .charts { display: flex; flex-wrap: wrap; gap: 0 12px; } .timeline-grid { display: flex; flex-wrap: wrap; gap: 0 12px; width: 100%; }
    .cell { display: flex; gap: 0 4px; } .chart-box { width: min-content; }
    """
}
