import NIOConcurrencyHelpers
import KServeProtocol

/// Durations of the phases of one successful execution, in nanoseconds.
struct ExecutionTiming {
    /// From the request being complete in the server to its response being ready.
    var total: UInt64
    var queue: UInt64
    var computeInput: UInt64
    var computeInfer: UInt64
    var computeOutput: UInt64
}

/// Exact, cumulative per-model statistics. Each model has its own lock so that
/// requests to different models never contend; one request takes each lock once.
final class StatisticsBook: Sendable {
    private struct Counters {
        var inferenceCount: UInt64 = 0
        var executionCount: UInt64 = 0
        var success = Duration()
        var fail = Duration()
        var queue = Duration()
        var computeInput = Duration()
        var computeInfer = Duration()
        var computeOutput = Duration()
        var lastInferenceMilliseconds: UInt64 = 0
    }

    private struct Duration {
        var count: UInt64 = 0
        var nanoseconds: UInt64 = 0

        mutating func add(_ duration: UInt64) {
            count &+= 1
            nanoseconds &+= duration
        }

        var wire: StatisticDuration { StatisticDuration(count: count, ns: nanoseconds) }
    }

    private let names: [String]
    private let cells: [NIOLockedValueBox<Counters>]

    init(modelNames: [String]) {
        names = modelNames
        cells = modelNames.map { _ in NIOLockedValueBox(Counters()) }
    }

    func recordSuccess(model: Int, batchSize: Int, timing: ExecutionTiming) {
        let now = MonotonicClock.epochMilliseconds()
        cells[model].withLockedValue { counters in
            counters.inferenceCount &+= UInt64(batchSize)
            counters.executionCount &+= 1
            counters.success.add(timing.total)
            counters.queue.add(timing.queue)
            counters.computeInput.add(timing.computeInput)
            counters.computeInfer.add(timing.computeInfer)
            counters.computeOutput.add(timing.computeOutput)
            counters.lastInferenceMilliseconds = now
        }
    }

    func recordFailure(model: Int, nanoseconds: UInt64) {
        cells[model].withLockedValue { $0.fail.add(nanoseconds) }
    }

    /// The model's statistics as the statistics extension reports them (version "1").
    func snapshot(model: Int) -> ModelStatistics {
        let counters = cells[model].withLockedValue { $0 }
        return ModelStatistics(
            name: names[model], version: "1",
            lastInference: counters.lastInferenceMilliseconds,
            inferenceCount: counters.inferenceCount,
            executionCount: counters.executionCount,
            inferenceStats: InferStatistics(
                success: counters.success.wire, fail: counters.fail.wire, queue: counters.queue.wire,
                computeInput: counters.computeInput.wire, computeInfer: counters.computeInfer.wire,
                computeOutput: counters.computeOutput.wire))
    }
}
