import KServeProtocol

/// One model's server-side counters over a span of time (a difference of two snapshots).
public struct ServerModelStats: Sendable, Equatable {
    public var name: String
    public var version: String
    public var inferenceCount: UInt64 = 0
    public var executionCount: UInt64 = 0
    public var successCount: UInt64 = 0
    public var successNs: UInt64 = 0
    public var queueCount: UInt64 = 0
    public var queueNs: UInt64 = 0
    public var computeInputCount: UInt64 = 0
    public var computeInputNs: UInt64 = 0
    public var computeInferCount: UInt64 = 0
    public var computeInferNs: UInt64 = 0
    public var computeOutputCount: UInt64 = 0
    public var computeOutputNs: UInt64 = 0
    /// Response cache: requests answered from the cache, and lookups that missed (each
    /// miss then computes and inserts), with the time each took.
    public var cacheHitCount: UInt64 = 0
    public var cacheHitNs: UInt64 = 0
    public var cacheMissCount: UInt64 = 0
    public var cacheMissNs: UInt64 = 0

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    init(_ stats: ModelStatistics) {
        name = stats.name
        version = stats.version
        inferenceCount = stats.inference_count.value
        executionCount = stats.execution_count.value
        let infer = stats.inference_stats
        successCount = infer.success.count.value
        successNs = infer.success.ns.value
        queueCount = infer.queue.count.value
        queueNs = infer.queue.ns.value
        computeInputCount = infer.compute_input.count.value
        computeInputNs = infer.compute_input.ns.value
        computeInferCount = infer.compute_infer.count.value
        computeInferNs = infer.compute_infer.ns.value
        computeOutputCount = infer.compute_output.count.value
        computeOutputNs = infer.compute_output.ns.value
        cacheHitCount = infer.cache_hit?.count.value ?? 0
        cacheHitNs = infer.cache_hit?.ns.value ?? 0
        cacheMissCount = infer.cache_miss?.count.value ?? 0
        cacheMissNs = infer.cache_miss?.ns.value ?? 0
    }

    /// `end - start`, field by field (a counter that went backwards, a server restart, gives 0).
    static func delta(end: ServerModelStats, start: ServerModelStats?) -> ServerModelStats {
        guard let start else { return end }
        func minus(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a - b : 0 }
        var result = ServerModelStats(name: end.name, version: end.version)
        result.inferenceCount = minus(end.inferenceCount, start.inferenceCount)
        result.executionCount = minus(end.executionCount, start.executionCount)
        result.successCount = minus(end.successCount, start.successCount)
        result.successNs = minus(end.successNs, start.successNs)
        result.queueCount = minus(end.queueCount, start.queueCount)
        result.queueNs = minus(end.queueNs, start.queueNs)
        result.computeInputCount = minus(end.computeInputCount, start.computeInputCount)
        result.computeInputNs = minus(end.computeInputNs, start.computeInputNs)
        result.computeInferCount = minus(end.computeInferCount, start.computeInferCount)
        result.computeInferNs = minus(end.computeInferNs, start.computeInferNs)
        result.computeOutputCount = minus(end.computeOutputCount, start.computeOutputCount)
        result.computeOutputNs = minus(end.computeOutputNs, start.computeOutputNs)
        result.cacheHitCount = minus(end.cacheHitCount, start.cacheHitCount)
        result.cacheHitNs = minus(end.cacheHitNs, start.cacheHitNs)
        result.cacheMissCount = minus(end.cacheMissCount, start.cacheMissCount)
        result.cacheMissNs = minus(end.cacheMissNs, start.cacheMissNs)
        return result
    }

    mutating func add(_ other: ServerModelStats) {
        inferenceCount += other.inferenceCount
        executionCount += other.executionCount
        successCount += other.successCount
        successNs += other.successNs
        queueCount += other.queueCount
        queueNs += other.queueNs
        computeInputCount += other.computeInputCount
        computeInputNs += other.computeInputNs
        computeInferCount += other.computeInferCount
        computeInferNs += other.computeInferNs
        computeOutputCount += other.computeOutputCount
        computeOutputNs += other.computeOutputNs
        cacheHitCount += other.cacheHitCount
        cacheHitNs += other.cacheHitNs
        cacheMissCount += other.cacheMissCount
        cacheMissNs += other.cacheMissNs
    }

    // Averages in µs, truncated as perf_analyzer truncates them.
    public var averageRequestUs: UInt64 { successCount > 0 ? successNs / successCount / 1000 : 0 }
    public var averageQueueUs: UInt64 { queueCount > 0 ? queueNs / queueCount / 1000 : 0 }
    public var averageComputeInputUs: UInt64 { computeInputCount > 0 ? computeInputNs / computeInputCount / 1000 : 0 }
    public var averageComputeInferUs: UInt64 { computeInferCount > 0 ? computeInferNs / computeInferCount / 1000 : 0 }
    public var averageComputeOutputUs: UInt64 { computeOutputCount > 0 ? computeOutputNs / computeOutputCount / 1000 : 0 }
    /// All three compute phases per request, in µs.
    public var averageComputeUs: UInt64 {
        computeInputCount > 0 ? (computeInputNs + computeInferNs + computeOutputNs) / computeInputCount / 1000 : 0
    }
    var averageRequestNs: UInt64 { successCount > 0 ? successNs / successCount : 0 }
    /// What the server accounts for per request, in ns, as perf_analyzer sums it for the CSV:
    /// the average queue, compute (all three phases), cache hit and cache miss times.
    var averageAccountedNs: UInt64 {
        let queue = queueCount > 0 ? queueNs / queueCount : 0
        let compute = computeInputCount > 0 ? (computeInputNs + computeInferNs + computeOutputNs) / computeInputCount : 0
        return queue + compute + averageCacheHitNs + averageCacheMissNs
    }
    var averageCacheHitNs: UInt64 { cacheHitCount > 0 ? cacheHitNs / cacheHitCount : 0 }
    var averageCacheMissNs: UInt64 { cacheMissCount > 0 ? cacheMissNs / cacheMissCount : 0 }
    public var averageCacheHitUs: UInt64 { cacheHitCount > 0 ? cacheHitNs / cacheHitCount / 1000 : 0 }
    /// The cache lookup and insertion of a miss (its compute is counted apart).
    public var averageCacheMissUs: UInt64 { cacheMissCount > 0 ? cacheMissNs / cacheMissCount / 1000 : 0 }
    /// With the cache on, a request either hits or computes: the time of both kinds of answer
    /// per request that got one.
    public var averageCacheOrComputeUs: UInt64 {
        let count = computeInputCount + cacheHitCount
        return count > 0 ? (computeInputNs + computeInferNs + computeOutputNs + cacheHitNs + cacheMissNs) / count / 1000 : 0
    }
    /// Request time the server spent outside queue and compute (parsing, scheduling, responding).
    public var averageOverheadUs: UInt64 {
        let accounted = averageQueueUs + averageComputeUs
        return averageRequestUs > accounted ? averageRequestUs - accounted : 0
    }
}

/// Server-side statistics for the model under test and, for an ensemble, each composing model.
public struct ServerWindowStats: Sendable, Equatable {
    public var model: ServerModelStats
    public var composing: [ServerModelStats]

    mutating func add(_ other: ServerWindowStats) {
        model.add(other.model)
        for index in composing.indices where index < other.composing.count {
            composing[index].add(other.composing[index])
        }
    }
}

/// Turns two `/v2/models/stats` answers into per-window statistics for the models we report.
struct ServerStatsSelector: Sendable {
    var modelName: String
    /// From `-x`; empty picks the version that served the window.
    var modelVersion: String
    var composing: [ModelDescription.ComposingModel]

    func window(start: StatisticsResponse?, end: StatisticsResponse) -> ServerWindowStats? {
        guard let model = select(name: modelName, version: modelVersion, start: start, end: end) else { return nil }
        let parts = composing.compactMap { select(name: $0.name, version: $0.version, start: start, end: end) }
        return ServerWindowStats(model: model, composing: parts)
    }

    private func select(name: String, version: String, start: StatisticsResponse?, end: StatisticsResponse) -> ServerModelStats? {
        let startByVersion = Dictionary((start?.model_stats ?? []).filter { $0.name == name }.map { ($0.version, ServerModelStats($0)) },
                                        uniquingKeysWith: { first, _ in first })
        let candidates = end.model_stats.filter { $0.name == name && (version.isEmpty || $0.version == version) }
            .map { ServerModelStats.delta(end: ServerModelStats($0), start: startByVersion[$0.version]) }
        // Without -x, the version that did the work in this window is the one to report.
        let busy = candidates.filter { $0.successCount > 0 || $0.queueCount > 0 }
        let pool = busy.isEmpty ? candidates : busy
        return pool.max { (Int($0.version) ?? 0) < (Int($1.version) ?? 0) }
    }
}
