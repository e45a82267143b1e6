/// `GET /v2/models/NAME[/versions/V]/stats` (statistics extension). Durations are
/// cumulative nanoseconds since the server started; readers take differences.
public struct StatisticsResponse: Sendable, Codable, Equatable {
    public var model_stats: [ModelStatistics]
    public init(modelStats: [ModelStatistics]) { self.model_stats = modelStats }
}

public struct StatisticDuration: Sendable, Codable, Equatable {
    public var count: FlexibleUInt64
    public var ns: FlexibleUInt64
    public init(count: UInt64 = 0, ns: UInt64 = 0) {
        self.count = FlexibleUInt64(count)
        self.ns = FlexibleUInt64(ns)
    }
}

public struct InferStatistics: Sendable, Codable, Equatable {
    public var success: StatisticDuration
    public var fail: StatisticDuration
    public var queue: StatisticDuration
    public var compute_input: StatisticDuration
    public var compute_infer: StatisticDuration
    public var compute_output: StatisticDuration
    public var cache_hit: StatisticDuration?
    public var cache_miss: StatisticDuration?

    public init(success: StatisticDuration = .init(), fail: StatisticDuration = .init(),
                queue: StatisticDuration = .init(), computeInput: StatisticDuration = .init(),
                computeInfer: StatisticDuration = .init(), computeOutput: StatisticDuration = .init()) {
        self.success = success
        self.fail = fail
        self.queue = queue
        self.compute_input = computeInput
        self.compute_infer = computeInfer
        self.compute_output = computeOutput
        self.cache_hit = StatisticDuration()
        self.cache_miss = StatisticDuration()
    }
}

public struct ModelStatistics: Sendable, Codable, Equatable {
    public var name: String
    public var version: String
    public var last_inference: FlexibleUInt64?
    public var inference_count: FlexibleUInt64
    public var execution_count: FlexibleUInt64
    public var inference_stats: InferStatistics

    public init(name: String, version: String, lastInference: UInt64, inferenceCount: UInt64,
                executionCount: UInt64, inferenceStats: InferStatistics) {
        self.name = name
        self.version = version
        self.last_inference = FlexibleUInt64(lastInference)
        self.inference_count = FlexibleUInt64(inferenceCount)
        self.execution_count = FlexibleUInt64(executionCount)
        self.inference_stats = inferenceStats
    }
}

/// `GET /v2`: server metadata, with the extensions it supports.
public struct ServerMetadata: Sendable, Codable, Equatable {
    public var name: String
    public var version: String
    public var extensions: [String]
    public init(name: String, version: String, extensions: [String]) {
        self.name = name
        self.version = version
        self.extensions = extensions
    }
}

/// The body of any KServe v2 HTTP error answer.
public struct ErrorResponse: Sendable, Codable, Equatable {
    public var error: String
    public init(error: String) { self.error = error }
}
