/// Parses perf_analyzer's `start[:end[:step]]` range values.
public enum RangeParser {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public static func concurrency(_ text: String, flag: String = "--concurrency-range") throws(ParseError) -> ConcurrencyRange {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else {
            throw ParseError(description: "\(flag) \(text): expected start[:end[:step]]")
        }
        var numbers: [Int] = []
        for part in parts {
            guard let number = Int(part), number >= 0 else {
                throw ParseError(description: "\(flag) \(text): '\(part)' is not a whole number >= 0")
            }
            numbers.append(number)
        }
        let start = numbers[0]
        let end = numbers.count > 1 ? numbers[1] : start
        let step = numbers.count > 2 ? numbers[2] : 1
        guard start > 0 else { throw ParseError(description: "\(flag) \(text): the start of the range must be > 0") }
        guard step > 0 else { throw ParseError(description: "\(flag) \(text): the step must be > 0") }
        guard end == 0 || end >= start else {
            throw ParseError(description: "\(flag) \(text): the end (\(end)) is below the start (\(start)); use end 0 to grow until -l is reached")
        }
        return ConcurrencyRange(start: start, end: end, step: step)
    }
}
