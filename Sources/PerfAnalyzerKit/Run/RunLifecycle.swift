import Foundation
import NIOCore
import NIOPosix

/// What a run acquires and gives back on every way out: its event loops, its transport (the
/// control connection and the load's connections), its shared-memory regions and, before
/// anything is sent, its export file.
extension PerfAnalyzerRun {
    public func run(interruption: Interruption? = nil) async -> ExitStatus {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loadThreads())
        let status: ExitStatus
        do {
            status = try await run(group: group, interruption: interruption)
        } catch let error as RunError {
            err("error: \(error.description)")
            status = error.status
        } catch {
            err("error: \(error)")
            status = .failure
        }
        if let ranks, let mpiWorld, !mpiWorld.hasMet {
            // This rank ended before its first level met the others: they wait there for it.
            try? await ranks.startTogether(failure: "this rank could not start")
        }
        try? await group.shutdownGracefully()
        await mpiWorld?.finish()
        interruption?.markRunEnded()
        return status
    }

    /// Event loops for the load: no more than the cores, the thread limit or the largest level.
    /// Without `--max-threads`, a server on this machine keeps a core: a load thread more than
    /// the cores left to the server makes them share cores, and the time slices that one waits
    /// for the other land in the tail latency reported (docs/benchmarks.md, "Tail latency").
    func loadThreads() -> Int {
        var cores = UsableCores.count
        if !options.maxThreadsGiven, options.tritonCAPI == nil, Self.serverIsOnThisMachine(options.url) {
            cores = max(1, cores - 1)
        }
        if let periodic = options.periodicConcurrency { return max(1, min(cores, options.maxThreads, periodic.end)) }
        guard options.loadMode == .concurrency else { return max(1, min(cores, options.maxThreads)) }
        let range = options.concurrencyRange
        let largest = range.isOpenEnded ? Int.max : max(range.start, range.end)
        return max(1, min(cores, options.maxThreads, largest))
    }

    /// Whether `-u` names a loopback address (`localhost`, 127.0.0.0/8, `::1`).
    static func serverIsOnThisMachine(_ url: String) -> Bool {
        (try? ServerAddress(parsing: url, defaultPort: 8000))?.isLoopback ?? false
    }

    private func run(group: MultiThreadedEventLoopGroup, interruption: Interruption?) async throws -> ExitStatus {
        let transport = try await RunTransport.open(options: options, group: group)
        var sharedMemory: SharedMemoryRegions? = nil
        // Its own event loop, shut down on every way out.
        let metrics = options.serverMetrics.map { ServerMetricsCollector(options: $0, timeoutMs: options.connectionTimeoutMs) }
        do {
            switch options.sharedMemory {
            case .none: break
            case .system: sharedMemory = try SharedMemoryRegions.make(kind: .system)
            case .cuda: sharedMemory = try SharedMemoryRegions.make(kind: .cuda(device: 0))
            }
            let status = try await openExportAndProfile(transport: transport, group: group, interruption: interruption,
                                                        sharedMemory: sharedMemory, metrics: metrics)
            await metrics?.close()
            await sharedMemory?.release(from: transport.control)
            await transport.close()
            return status
        } catch {
            await metrics?.close()
            // Regions go back whatever failed: the server forgets them, /dev/shm and the GPU lose them.
            await sharedMemory?.release(from: transport.control)
            await transport.close()
            throw error
        }
    }

    private func openExportAndProfile(transport: RunTransport, group: MultiThreadedEventLoopGroup, interruption: Interruption?,
                                      sharedMemory: SharedMemoryRegions?, metrics: ServerMetricsCollector?) async throws -> ExitStatus {
        try checkReportDestinations()
        // The export file is made first, so a path that cannot be written stops the run before anything is sent.
        var exportFile: ProfileExportWriter.ExportFile? = nil
        // Split load: rank 0 writes the one export, the other ranks relay their requests to it.
        if let path = options.profileExportPath, ranks?.reports ?? true {
            do {
                exportFile = try ProfileExportWriter.createFile(path)
            } catch {
                throw RunError(error.description)
            }
        }
        do {
            return try await profile(transport: transport, group: group, interruption: interruption, sharedMemory: sharedMemory,
                                     exportFile: exportFile, metrics: metrics)
        } catch {
            // A run that never started leaves no empty export behind.
            if let exportFile, !exportFile.wasWritten { exportFile.remove() }
            throw error
        }
    }
}
