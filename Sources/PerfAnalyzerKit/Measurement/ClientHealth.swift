/// Whether the client, not the server, limited a level: the figures that decide whether a
/// level's throughput and tail are the server's or ours. Judged from the client process's CPU
/// use over the reported windows, the hypervisor's steal over the same time, and in scheduled
/// modes how late sends went out against the machine's own timer floor.
public struct ClientHealth: Sendable, Equatable {
    public enum Limit: Sendable, Equatable {
        /// The process used this share of the cores it may run on.
        case cpuSaturated(utilization: Double, cores: Int)
        /// Sends went out this late (p90) where the machine's timers wake within `floorP99Ns`.
        case scheduleSlipped(lagP90Ns: UInt64, floorP99Ns: UInt64)
        /// The hypervisor gave this share of the machine's CPU time to other guests.
        case steal(fraction: Double)
        /// The client's threads waited this long for a core, as a share of the level's time:
        /// other processes (or too few cores) held them back.
        case starved(waitFraction: Double)
    }

    /// CPU time of the process over the level's span on its usable cores, 0...1 (more only from
    /// clock granularity); nil when not sampled.
    public var cpuUtilization: Double?
    public var cores: Int
    public var stealFraction: Double?
    /// The time the client's threads waited, runnable, for a core, over the level's span
    /// (summed over threads, so it can pass 1).
    public var runQueueWaitFraction: Double?
    /// Scheduled modes: the level's send lag, 90th percentile.
    public var sendLagP90Ns: UInt64?
    public var timerFloor: TimerFloor?
    public var limits: [Limit]

    public var isLimited: Bool { !limits.isEmpty }

    /// Busier than this share of its cores, the client is taken to be saturated.
    static let saturatedUtilization = 0.9
    /// More steal than this share of the machine's time and the client's cores were not all there.
    static let stealLimit = 0.1
    /// Threads that waited for a core more than this share of the level were starved.
    static let runQueueWaitLimit = 0.1
    /// A schedule slipped when the send lag's p90 is beyond this: 1 ms (perf_analyzer's "delayed"
    /// threshold) or 4 timer wake-ups of this machine, whichever is larger.
    static func lagLimitNs(_ floor: TimerFloor?) -> UInt64 { max(1_000_000, 4 * (floor?.p99Ns ?? 0)) }

    public init(cpuUtilization: Double?, cores: Int, stealFraction: Double?, runQueueWaitFraction: Double? = nil,
                sendLagP90Ns: UInt64?, timerFloor: TimerFloor?) {
        self.cpuUtilization = cpuUtilization
        self.cores = cores
        self.stealFraction = stealFraction
        self.runQueueWaitFraction = runQueueWaitFraction
        self.sendLagP90Ns = sendLagP90Ns
        self.timerFloor = timerFloor
        var limits: [Limit] = []
        if let cpuUtilization, cpuUtilization >= Self.saturatedUtilization {
            limits.append(.cpuSaturated(utilization: cpuUtilization, cores: cores))
        }
        if let sendLagP90Ns, sendLagP90Ns > Self.lagLimitNs(timerFloor) {
            limits.append(.scheduleSlipped(lagP90Ns: sendLagP90Ns, floorP99Ns: timerFloor?.p99Ns ?? 0))
        }
        if let runQueueWaitFraction, runQueueWaitFraction > Self.runQueueWaitLimit {
            limits.append(.starved(waitFraction: runQueueWaitFraction))
        }
        if let stealFraction, stealFraction > Self.stealLimit {
            limits.append(.steal(fraction: stealFraction))
        }
        self.limits = limits
    }

    /// A level's health from what the profiler sampled over its reported windows.
    init(cpuNs: UInt64?, spanNs: UInt64, cores: Int, machine: (start: MachineSample, end: MachineSample)?, schedule: ScheduleFigures?,
         timerFloor: TimerFloor?) {
        let utilization = cpuNs.flatMap { cpu in spanNs > 0 ? Double(cpu) / (Double(spanNs) * Double(max(1, cores))) : nil }
        let lag = schedule.flatMap { $0.sentCount > 0 ? $0.sendLagPercentileNs(90) : nil }
        var steal: Double?
        if let start = machine?.start.ticks, let end = machine?.end.ticks { steal = end.stealFraction(since: start) }
        var wait: Double?
        if let start = machine?.start.runQueueWaitNs, let end = machine?.end.runQueueWaitNs, spanNs > 0 {
            wait = Double(end > start ? end - start : 0) / Double(spanNs)
        }
        self.init(cpuUtilization: utilization, cores: cores, stealFraction: steal, runQueueWaitFraction: wait,
                  sendLagP90Ns: lag, timerFloor: timerFloor)
    }

    /// The figures, one phrase each (console and reasons).
    public var figures: String {
        var parts: [String] = []
        if let cpuUtilization { parts.append("CPU \(Self.percent(cpuUtilization)) of \(Self.cores(cores))") }
        if let runQueueWaitFraction { parts.append("waiting for a core \(Self.percent(runQueueWaitFraction))") }
        if let stealFraction { parts.append("steal \(Self.percent(stealFraction))") }
        if let sendLagP90Ns {
            parts.append("send lag p90 \(sendLagP90Ns / 1000) usec" + (timerFloor.map { " (timer floor p99 \($0.p99Ns / 1000) usec)" } ?? ""))
        }
        return parts.joined(separator: ", ")
    }

    /// What limited the level and what to change, one line; nil when nothing did.
    public var advice: String? {
        guard let first = limits.first else { return nil }
        let what = limits.map(\.reason).joined(separator: "; ")
        return "The client limited this level (\(what)): its figures are the client's limit, not the server's; \(first.remedy)"
    }

    static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        return value < 10 ? String(format: "%.1f%%", value) : String(format: "%.0f%%", value)
    }

    static func cores(_ count: Int) -> String { count == 1 ? "1 core" : "\(count) cores" }
}

extension ClientHealth.Limit {
    /// Why, in a few words with the figure.
    public var reason: String {
        switch self {
        case .cpuSaturated(let utilization, let cores):
            return "CPU \(ClientHealth.percent(utilization)) of its \(ClientHealth.cores(cores))"
        case .scheduleSlipped(let lag, let floor):
            return "sends \(lag / 1000) usec late at p90 where this machine's timers wake within \(floor / 1000) usec"
        case .steal(let fraction):
            return "the hypervisor took \(ClientHealth.percent(fraction)) of the CPU time (steal)"
        case .starved(let fraction):
            return "its threads waited for a core \(ClientHealth.percent(fraction)) of the time"
        }
    }

    /// The one thing to change.
    public var remedy: String {
        switch self {
        case .cpuSaturated:
            return "give perf-analyzer more cores (taskset, or a machine of its own) or lower the load"
        case .scheduleSlipped:
            return "lower the request rate or give perf-analyzer more cores; --spin-before-send helps when the lag is the timer"
        case .steal:
            return "run on a machine whose CPUs are not shared with other guests"
        case .starved:
            return "give perf-analyzer cores no other busy process uses (taskset), or stop what competes for them"
        }
    }

    /// A short name for CSV cells and the export.
    public var name: String {
        switch self {
        case .cpuSaturated: return "cpu"
        case .scheduleSlipped: return "schedule"
        case .steal: return "steal"
        case .starved: return "starved"
        }
    }
}
