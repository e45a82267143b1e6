/// `--periodic-concurrency-range start:end:step` with `--request-period N`: start `start`
/// requests, and each time every request of the latest set has had N responses, start `step`
/// more, until `end` requests have been started in all; the run ends when they have all
/// completed. Each request is one long answer on its own stream (a decoupled model's).
public struct PeriodicConcurrency: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var step: Int
    /// Responses every request of the latest set must have before the next set starts.
    public var requestPeriod: Int

    public init(start: Int, end: Int, step: Int, requestPeriod: Int) {
        self.start = start
        self.end = end
        self.step = step
        self.requestPeriod = requestPeriod
    }

    /// Parses `start:end[:step]` (step 1 when left out).
    public init(parsing text: String, requestPeriod: Int) throws(OptionError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count) else {
            throw OptionError("--periodic-concurrency-range \(text): expected start:end or start:end:step")
        }
        var numbers: [Int] = []
        for part in parts {
            guard let number = Int(part), number > 0 else {
                throw OptionError("--periodic-concurrency-range \(text): '\(part)' is not a whole number > 0")
            }
            numbers.append(number)
        }
        guard numbers[0] <= numbers[1] else {
            throw OptionError("--periodic-concurrency-range \(text): the start \(numbers[0]) is above the end \(numbers[1])")
        }
        guard requestPeriod > 0 else { throw OptionError("--request-period \(requestPeriod): must be > 0") }
        self.init(start: numbers[0], end: numbers[1], step: numbers.count == 3 ? numbers[2] : 1, requestPeriod: requestPeriod)
    }

    /// How many requests the next set starts once `launched` have started: `step`, or what is
    /// left up to `end` (the documented total; perf_analyzer's code can overshoot it).
    public func nextSet(afterLaunching launched: Int) -> Int {
        max(0, min(step, end - launched))
    }
}
