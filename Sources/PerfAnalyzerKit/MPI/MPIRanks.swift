/// Makes a run one rank of an `mpirun`: starts MPI, checks what perf_analyzer checks of a
/// multi-model run, and, with `--mpi-split-load`, leaves the report to rank 0.
enum MPIRanks {
    static func prepare(_ run: PerfAnalyzerRun, giveUp: @escaping @Sendable () -> Bool) throws(MPIError) -> PerfAnalyzerRun {
        let world = try MPIWorld.start(giveUp: giveUp)
        var run = run
        run.mpiWorld = world
        let options = run.options
        if options.mpi == .allRanksStable, world.size > 1 {
            // As perf_analyzer: each model's process measures one level (a sweep would need the
            // ranks to agree on every level's outcome).
            if options.loadMode == .concurrency, options.concurrencyRange.end != options.concurrencyRange.start || options.binarySearch {
                throw MPIError("--concurrency-range: with --enable-mpi and \(world.size) ranks each rank measures one concurrency; give one value (e.g. --concurrency-range 4), or add --mpi-split-load to sweep")
            }
            if case .requestRate(let range, _) = options.loadMode, range.end != range.start || options.binarySearch {
                throw MPIError("--request-rate-range: with --enable-mpi and \(world.size) ranks each rank measures one rate; give one value (e.g. --request-rate-range 100), or add --mpi-split-load to sweep")
            }
        }
        if options.mpi == .splitLoad, !world.isRoot {
            // Rank 0 reports and writes; the other ranks only say what went wrong.
            run.out = { _ in }
            run.options.csvPath = nil
            run.options.htmlReportPath = nil
        }
        return run
    }
}
