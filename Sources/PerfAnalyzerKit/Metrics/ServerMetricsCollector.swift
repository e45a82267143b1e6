import KServeProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// What the collector gathered since the profiler last asked: the reads that completed (they
/// belong to the window that just ended, as in perf_analyzer), warnings to show once, and
/// the failure that stopped the reads, if one did.
struct MetricsHarvest: Sendable {
    var reads: [ServerMetricsRead]
    var notices: [String]
    var failure: MetricsReadFailure?
}

/// Reads the server's metrics every `--metrics-interval` while a level is measured. The reads
/// run in a Swift task over a connection on an event loop of its own, so the load's event
/// loops never carry them; each read opens a fresh connection, as perf_analyzer's curl does,
/// so a server that closes idle connections cannot fail one. It prints nothing: reads,
/// warnings and failures are handed to the profiler, which passes them on as data and events.
final class ServerMetricsCollector: Sendable {
    let endpoint: MetricsEndpoint
    private let intervalMs: Int
    private let timeoutMs: Int
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let state = NIOLockedValueBox(State())

    private struct State {
        var reads: [ServerMetricsRead] = []
        var notices: [String] = []
        var failure: MetricsReadFailure?
        var warnedMissing = false
        var warnedSlow = false
        var poller: Task<Void, Never>?
    }

    init(options: ServerMetricsOptions, timeoutMs: Int) {
        endpoint = options.endpoint
        intervalMs = options.intervalMs
        self.timeoutMs = timeoutMs
    }

    /// One read before any load, so a wrong or unreachable URL ends the run before it starts.
    func probe() async throws(MetricsReadFailure) -> ServerMetricsRead {
        try await read()
    }

    /// Starts reading, the first read at once. A failure from an earlier level stays reported.
    func startLevel() {
        state.withLockedValue { state in
            guard state.poller == nil, state.failure == nil else { return }
            state.reads = []
            state.poller = Task { [self] in await self.poll() }
        }
    }

    /// What completed since the last harvest; warnings are handed out once.
    func harvest() -> MetricsHarvest {
        state.withLockedValue { state in
            defer {
                state.reads = []
                state.notices = []
            }
            return MetricsHarvest(reads: state.reads, notices: state.notices, failure: state.failure)
        }
    }

    /// Stops reading when a level ends. A read in progress is waited for (it is bounded by
    /// `--connection-timeout`) and dropped, so the next level starts on a quiet connection.
    func stopLevel() async {
        let poller = state.withLockedValue { state -> Task<Void, Never>? in
            defer { state.poller = nil }
            return state.poller
        }
        poller?.cancel()
        await poller?.value
        state.withLockedValue { $0.reads = [] }
    }

    func close() async {
        await stopLevel()
        try? await group.shutdownGracefully()
    }

    /// Reads, then waits out the rest of the interval (none when the read took longer).
    private func poll() async {
        let intervalNs = UInt64(intervalMs) * 1_000_000
        while !Task.isCancelled {
            let started = MonotonicClock.now()
            do {
                let read = try await read()
                // A read that ended after the level did is not the level's.
                if Task.isCancelled { return }
                state.withLockedValue { $0.reads.append(read) }
            } catch {
                state.withLockedValue { $0.failure = error }
                return
            }
            let elapsed = MonotonicClock.now() - started
            if elapsed < intervalNs {
                try? await Task.sleep(nanoseconds: intervalNs - elapsed)
            }
        }
    }

    /// One GET of the endpoint, bounded by `--connection-timeout`, parsed.
    private func read() async throws(MetricsReadFailure) -> ServerMetricsRead {
        let started = MonotonicClock.now()
        let client = HTTPControlClient(group: group, address: endpoint.address, headers: [], connectTimeoutMs: timeoutMs)
        let path = endpoint.path
        let response: HTTPControlClient.Response
        do {
            response = try await withServerDeadline(timeoutMs, what: "GET \(path)", address: endpoint.address) {
                do {
                    let response = try await client.get(path)
                    await client.close()
                    return response
                } catch {
                    await client.close()
                    throw error
                }
            }
        } catch let error as ServerTimeout {
            throw MetricsReadFailure(endpoint: endpoint, reason: .timeout(ms: error.limitMs))
        } catch let error as ConnectionError {
            throw MetricsReadFailure(endpoint: endpoint, reason: .unreachable(MetricsReadFailure.connectProblem(error.underlying)))
        } catch {
            throw MetricsReadFailure(endpoint: endpoint, reason: .broken("\(error)"))
        }
        guard response.status == 200 else { throw MetricsReadFailure(endpoint: endpoint, reason: .status(response.status)) }
        let read: ServerMetricsRead
        do {
            read = ServerMetricsRead(samples: try PrometheusText.parse(response.text))
        } catch {
            throw MetricsReadFailure(endpoint: endpoint, reason: .notPrometheus(error))
        }
        noteOnce(read: read, tookNs: MonotonicClock.now() - started)
        return read
    }

    /// perf_analyzer's two warnings, each given once a run: metrics the page lacks, and a read
    /// slower than the interval (which then reads as often as the server answers).
    private func noteOnce(read: ServerMetricsRead, tookNs: UInt64) {
        let missing = read.missing
        let tookMs = tookNs / 1_000_000
        let intervalMs = self.intervalMs
        let endpoint = self.endpoint
        state.withLockedValue { state in
            if !missing.isEmpty, !state.warnedMissing {
                state.warnedMissing = true
                let names = missing.map(\.rawValue).joined(separator: ", ")
                let gpuOnly = missing.allSatisfy { $0.rawValue.hasPrefix("nv_gpu_") }
                state.notices.append("WARNING: the server's metrics at \(endpoint) have no \(names); the report leaves \(missing.count == 1 ? "it" : "them") out\(gpuOnly ? " (a server without GPUs exports no GPU metrics)" : "").")
            }
            if tookNs > UInt64(intervalMs) * 1_000_000, !state.warnedSlow {
                state.warnedSlow = true
                state.notices.append("WARNING: reading the server's metrics took \(tookMs) ms, longer than --metrics-interval (\(intervalMs) ms), so they are read only as often as the server answers; try a larger --metrics-interval.")
            }
        }
    }
}
