import Foundation

/// `compare`'s printed report: what was compared and how, a table of one row per level and
/// metric, the levels only one file has, and a last line with the outcome.
struct ComparisonTable {
    var basePath: String
    var newPath: String
    var settings: RunComparison.Settings

    func render(_ comparison: RunComparison) -> String {
        let threshold = Self.percent(settings.threshold, signed: false)
        var lines = ["BASE: \(basePath)", "NEW:  \(newPath)"]
        let confidence = Self.number(settings.bootstrap.confidence * 100)
        if comparison.tested {
            lines.append("Method: block bootstrap over time slices of the measured windows, \(settings.bootstrap.resamples) resamples, seed \(settings.bootstrap.seed); \(confidence)% intervals of the relative change.")
            lines.append("A regression: the interval excludes 0 and the change is worse than \(threshold).")
        } else {
            lines.append("CSV files hold one row per level: no significance test is possible from them.")
            lines.append("A regression: a change worse than \(threshold) (the threshold alone decides).")
        }
        lines.append("")
        let intervalTitle = comparison.tested ? "\(confidence)% interval" : "interval"
        var table = [["Level", "Metric", "Base", "New", "Change", intervalTitle, "Verdict"]]
        for level in comparison.levels {
            for row in level.rows {
                table.append([level.key.description, row.metric.description, Self.figure(row.base, row.metric), Self.figure(row.new, row.metric),
                              row.change.map { Self.percent($0, signed: true) } ?? "-",
                              row.interval.map { "[\(Self.percent($0.lowerBound, signed: true)), \(Self.percent($0.upperBound, signed: true))]" } ?? "-",
                              row.verdict.text(threshold: settings.threshold)])
            }
        }
        let widths = table[0].indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        for cells in table {
            let padded = cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            lines.append(padded.joined(separator: "  "))
        }
        lines.append("")
        if !comparison.onlyInBase.isEmpty {
            lines.append("Only in BASE (not judged): \(comparison.onlyInBase.map(\.description).joined(separator: ", "))")
        }
        if !comparison.onlyInNew.isEmpty {
            lines.append("Only in NEW (not judged): \(comparison.onlyInNew.map(\.description).joined(separator: ", "))")
        }
        for (side, key) in comparison.repeated {
            lines.append("\(side) holds \(key) more than once; the first is compared.")
        }
        let regressed = comparison.levels.filter { !$0.regressions.isEmpty }
        if regressed.isEmpty {
            lines.append("No level regressed beyond \(threshold).")
        } else {
            let named = regressed.map { "\($0.key) (\($0.regressions.map(\.description).joined(separator: ", ")))" }
            lines.append("Regressed: \(named.joined(separator: "; ")).")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func figure(_ value: Double?, _ metric: CompareMetric) -> String {
        guard let value else { return "-" }
        switch metric {
        case .throughput: return String(format: "%.1f/s", value)
        case .latencyPercentile: return "\(Self.number(value)) usec"
        }
    }

    /// 0.052 → "+5.2%" (signed) or "5.2%"; 0.05 unsigned → "5%".
    static func percent(_ fraction: Double, signed: Bool) -> String {
        let text = String(format: signed ? "%+.1f%%" : "%.1f%%", fraction * 100)
        // The threshold reads as given ("5%"); changes keep their decimal so the column lines up.
        return signed ? text : text.replacingOccurrences(of: ".0%", with: "%")
    }

    /// A whole number without decimals, others with up to two.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.2f", value)
    }
}
