import Foundation

/// Reads a profile export (`--profile-export-file`, ours or perf_analyzer's) into its levels,
/// each cut into time slices for the bootstrap. Only the experiment, every request's send time
/// and response times, and the window boundaries are read; inputs and outputs are skipped.
/// A request's latency runs from its send to its last response, and it belongs to the window
/// its last response arrived in; a request without responses (a failure) is left out.
enum ProfileExportLevels {
    private struct Layout: Decodable {
        struct Experiment: Decodable {
            struct Mode: Decodable {
                var mode: String
                var value: Double
            }
            struct Request: Decodable {
                var timestamp: UInt64
                var response_timestamps: [UInt64]
            }
            var experiment: Mode
            var requests: [Request]
            var window_boundaries: [UInt64]
        }
        var experiments: [Experiment]
    }

    /// The levels in file order; the path starts every error line.
    static func read(_ data: Data, path: String) throws(CompareInputError) -> [(key: LevelKey, level: SlicedLevel)] {
        let layout: Layout
        do {
            layout = try JSONDecoder().decode(Layout.self, from: data)
        } catch let error as DecodingError {
            throw CompareInputError("\(path): \(describe(error))")
        } catch {
            throw CompareInputError("\(path): not a profile export: \(error)")
        }
        guard !layout.experiments.isEmpty else {
            throw CompareInputError("\(path): experiments: expected at least one measured level, found an empty list")
        }
        var levels: [(LevelKey, SlicedLevel)] = []
        for (index, experiment) in layout.experiments.enumerated() {
            let at = "\(path): experiments[\(index)]"
            let boundaries = experiment.window_boundaries
            guard boundaries.count >= 2 else {
                throw CompareInputError("\(at).window_boundaries: expected at least two boundaries, found \(boundaries.count)")
            }
            if let bad = boundaries.indices.dropFirst().first(where: { boundaries[$0] <= boundaries[$0 - 1] }) {
                throw CompareInputError("\(at).window_boundaries[\(bad)]: expected boundaries in increasing order, found \(boundaries[bad]) after \(boundaries[bad - 1])")
            }
            var completions: [SlicedLevel.Completion] = []
            completions.reserveCapacity(experiment.requests.count)
            for (position, request) in experiment.requests.enumerated() {
                guard let last = request.response_timestamps.max() else { continue }
                guard last >= request.timestamp else {
                    throw CompareInputError("\(at).requests[\(position)].response_timestamps: expected times after the request's timestamp \(request.timestamp), found \(last)")
                }
                completions.append(SlicedLevel.Completion(completedNs: last, latencyNs: last - request.timestamp))
            }
            var windows = (1..<boundaries.count).map { boundaries[$0 - 1]..<boundaries[$0] }
            // A level measured as one span (`--request-count`) is exported as [0, max]: its time is
            // from the first send to the last answer.
            if windows.count == 1, boundaries[0] == 0, boundaries[1] == .max {
                let first = experiment.requests.map(\.timestamp).min() ?? 0
                let last = completions.map(\.completedNs).max() ?? first
                windows = [first..<(last + 1)]
            }
            let key = LevelKey(mode: experiment.experiment.mode, value: experiment.experiment.value)
            levels.append((key, SlicedLevel(windows: windows, completions: completions)))
        }
        return levels
    }

    /// A decoding failure as one line: the JSON path, what was expected and what was found.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "not JSON: expected a profile export (perf-analyzer --profile-export-file)"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(firstLine(context.debugDescription))"
        case .keyNotFound(let key, let context):
            let at = path(context.codingPath)
            if at.isEmpty && key.stringValue == "experiments" {
                return "expected a profile export with an \"experiments\" list, found none"
            }
            return "\(at.isEmpty ? "" : at + ": ")expected a \"\(key.stringValue)\" field, found none"
        case .typeMismatch(let type, let context):
            let at = path(context.codingPath)
            if at.isEmpty { return "expected a profile export (a JSON object with \"experiments\"), found another kind of JSON value" }
            return "\(at): expected \(expectation(type)), \(found(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(expectation(type)), found null"
        @unknown default:
            return "not a profile export: \(error)"
        }
    }

    private static func expectation(_ type: Any.Type) -> String {
        switch type {
        case is UInt64.Type: "a non-negative integer (ns)"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        default: type is any Collection.Type ? "a list" : "an object"
        }
    }

    /// "Expected to decode UInt64 but found a string instead." → "found a string".
    private static func found(_ text: String) -> String {
        guard let range = text.range(of: "but found ") else { return firstLine(text) }
        let rest = text[range.upperBound...].prefix { $0 != "\n" }
        return "found " + (rest.hasSuffix(" instead.") ? String(rest.dropLast(" instead.".count)) : String(rest))
    }

    private static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? text
    }
}
