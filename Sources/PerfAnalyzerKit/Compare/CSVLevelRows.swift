import Foundation

/// Reads perf_analyzer's CSV (`-f`: a header, then one row per level) into each level's
/// figures for the metrics asked. Latencies are the file's microseconds, throughput its
/// `Inferences/Second`.
enum CSVLevelRows {
    /// The first column names the level's kind.
    private static let levelColumns = ["Concurrency": "concurrency", "Request Rate": "request_rate"]

    static func read(_ text: String, path: String, metrics: [CompareMetric]) throws(CompareInputError) -> [(key: LevelKey, figures: [Double])] {
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard let headerLine = lines.first, !headerLine.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CompareInputError("\(path): expected perf_analyzer's CSV header (Concurrency or Request Rate, Inferences/Second, ...), found an empty file")
        }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let mode = levelColumns[header[0]] else {
            throw CompareInputError("\(path): first CSV column: expected \"Concurrency\" or \"Request Rate\", found \"\(header[0].prefix(60))\"")
        }
        var columns: [Int] = []
        for metric in metrics {
            guard let column = header.firstIndex(of: metric.csvColumn) else {
                throw CompareInputError("\(path): CSV header: expected a \"\(metric.csvColumn)\" column (for \(metric)), found none")
            }
            columns.append(column)
        }
        var rows: [(LevelKey, [Double])] = []
        for (lineIndex, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else {
                throw CompareInputError("\(path) line \(lineIndex + 1): expected \(header.count) cells as in the header, found \(cells.count)")
            }
            func value(at column: Int) throws(CompareInputError) -> Double {
                guard let value = Double(cells[column]), value.isFinite, value >= 0 else {
                    throw CompareInputError("\(path) line \(lineIndex + 1), column \"\(header[column])\": expected a non-negative number, found \"\(cells[column].prefix(40))\"")
                }
                return value
            }
            var figures: [Double] = []
            for column in columns { figures.append(try value(at: column)) }
            rows.append((LevelKey(mode: mode, value: try value(at: 0)), figures))
        }
        guard !rows.isEmpty else {
            throw CompareInputError("\(path): expected a row per level under the CSV header, found none")
        }
        return rows
    }
}
