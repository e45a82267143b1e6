/// How the ranks of an `mpirun` share a run (`--enable-mpi`).
public enum MPIMode: Sendable, Equatable {
    /// perf_analyzer's: each rank profiles its own model; levels start together and end when
    /// every rank is stable.
    case allRanksStable
    /// `--mpi-split-load`: the ranks are one client of one model, rank 0 reports.
    case splitLoad
}

extension PerfAnalyzerCommand {
    /// `--enable-mpi` and `--mpi-split-load`, and what split load cannot be combined with.
    func resolveMPI(into options: inout PerfAnalyzerOptions) throws(OptionError) {
        guard other.enableMpi else {
            if other.mpiSplitLoad { throw OptionError("--mpi-split-load: needs --enable-mpi (and mpirun to start the ranks)") }
            return
        }
        guard other.mpiSplitLoad else {
            options.mpi = .allRanksStable
            return
        }
        // Each of these keeps per-request state in the one process that reports.
        let refused: [(Bool, String)] = [
            (options.openAI != nil, "--service-kind openai (not supported across ranks yet)"),
            (options.periodicConcurrency != nil, "--periodic-concurrency-range"),
            (options.loadMode == .fixedSchedule, "--fixed-schedule"),
            (options.tritonCAPI != nil, "--service-kind triton_c_api (one in-process server per rank)"),
        ]
        if let (_, what) = refused.first(where: { $0.0 }) {
            throw OptionError("--mpi-split-load: cannot be combined with \(what); run without --mpi-split-load, one model per rank")
        }
        options.mpi = .splitLoad
    }
}
