import Foundation

/// One side of a comparison, read from its file: a profile export's levels (the requests,
/// for the bootstrap) or a CSV file's rows (one figure per metric and level).
enum CompareInput: Sendable {
    case export([(key: LevelKey, level: SlicedLevel)])
    case csv([(key: LevelKey, figures: [Double])])

    var keys: [LevelKey] {
        switch self {
        case .export(let levels): levels.map(\.key)
        case .csv(let rows): rows.map(\.key)
        }
    }

    var kindName: String {
        switch self {
        case .export: "profile export"
        case .csv: "CSV file"
        }
    }

    /// A `.json` file is read as an export, a `.csv` file as CSV, anything else by its first
    /// character (`{` or `[`: JSON).
    static func read(path: String, metrics: [CompareMetric]) throws(CompareInputError) -> CompareInput {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason: String
            if !FileManager.default.fileExists(atPath: path) {
                reason = "no such file"
            } else if (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeDirectory {
                reason = "is a directory, expected a file"
            } else {
                reason = "cannot be read"
            }
            throw CompareInputError("\(path): \(reason)")
        }
        let lower = path.lowercased()
        let firstByte = data.first { ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) }
        let isJSON = lower.hasSuffix(".json") || (!lower.hasSuffix(".csv") && (firstByte == UInt8(ascii: "{") || firstByte == UInt8(ascii: "[")))
        if isJSON { return .export(try ProfileExportLevels.read(data, path: path)) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CompareInputError("\(path): expected a profile export (JSON) or perf_analyzer's CSV (text), found bytes that are not UTF-8")
        }
        return .csv(try CSVLevelRows.read(text, path: path, metrics: metrics))
    }
}
