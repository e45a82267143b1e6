import Foundation

/// `--request-intervals FILE`: one gap in microseconds per line, used in order and looped.
/// Blank lines are skipped; anything else that is not a whole, non-negative number is
/// refused with the file and line.
public enum RequestIntervalsFile {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The gaps in nanoseconds.
    public static func load(path: String) throws(Failure) -> [UInt64] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw Failure(description: "--request-intervals \(path): \(exists ? "the file cannot be read" : "no such file")")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String) throws(Failure) -> [UInt64] {
        var gaps: [UInt64] = []
        // `isNewline` also takes "\r\n", which Swift reads as one character.
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let place = "--request-intervals \(path):\(offset + 1)"
            if line.hasPrefix("-"), Double(line) != nil {
                throw Failure(description: "\(place): an interval cannot be negative, found '\(line)'")
            }
            guard let micros = UInt64(line) else {
                throw Failure(description: "\(place): expected a whole number of microseconds, found '\(line)'")
            }
            // Longer than a day, the schedule's nanosecond offsets could leave the clock's range.
            guard micros <= 86_400_000_000 else {
                throw Failure(description: "\(place): '\(line)' microseconds is longer than a day, the longest interval")
            }
            let nanos = micros * 1000
            gaps.append(nanos)
        }
        guard !gaps.isEmpty else { throw Failure(description: "--request-intervals \(path): the file holds no intervals") }
        guard gaps.contains(where: { $0 > 0 }) else {
            throw Failure(description: "--request-intervals \(path): every interval is 0; the schedule would never advance")
        }
        return gaps
    }

    /// Sends per second the gaps make on average, whole (as perf_analyzer reports it).
    public static func averageRate(gapsNs: [UInt64]) -> Double {
        let total = gapsNs.reduce(0.0) { $0 + Double($1) }
        return total > 0 ? (Double(gapsNs.count) * 1e9 / total).rounded(.down) : 0
    }
}
