import ArgumentParser

/// `perf-analyzer compare BASE NEW`: the command line of the comparison of two runs.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf-analyzer compare",
        abstract: "Compare two runs level by level and say whether the second regressed.",
        discussion: """
        BASE and NEW are two profile exports (--profile-export-file) or two CSV files (-f). \
        Levels are matched by mode and value (concurrency 4, request_rate 100); a level only \
        one file has is listed and not judged. For each metric the table gives both values and \
        the relative change NEW/BASE - 1.

        Exports: a block bootstrap. Each window is cut into time slices (about 40 per level); \
        a resample draws each run's slices with replacement and computes throughput (requests \
        over the slices' time) and the latency percentiles (nearest rank, send to last \
        response, in usec) from them. The resampled changes give a confidence interval; a \
        change is significant when its interval excludes 0, and a regression when it is \
        significant, in the bad direction (throughput down, latency up) and larger than \
        --threshold. The interval only knows the variation within each run; two runs on one \
        machine differ by more than that, which is what the threshold is for. Seeded: the \
        same files always give the same verdict.

        CSV files hold one row per level, so nothing can be tested: a change beyond \
        --threshold in the bad direction counts as a regression.

        Exit status: 0 when no level regressed, 2 when one did, 1 for bad input (a file that \
        cannot be read, is not an export or perf_analyzer's CSV, two kinds mixed, no level in both).
        """
    )

    @Argument(help: ArgumentHelp("The baseline run: a profile export (.json) or perf_analyzer's CSV (.csv).", valueName: "base"))
    var base: String

    @Argument(help: ArgumentHelp("The run to judge against it, of the same kind.", valueName: "new"))
    var new: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Smallest change, in percent, that counts as a regression or an improvement.", valueName: "percent"))
    var threshold: Double = 5

    @Option(name: .customLong("metric"), help: ArgumentHelp("What to compare: throughput or pN (N from 1 to 99, a latency percentile); repeat or separate with commas. Default: throughput, p50, p99.", valueName: "metric"))
    var metrics: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Coverage of the bootstrap intervals, in percent.", valueName: "percent"))
    var confidence: Double = 95

    @Option(parsing: .unconditional, help: ArgumentHelp("Bootstrap resamples per level.", valueName: "count"))
    var resamples: Int = 2000

    @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the bootstrap's draws.", valueName: "n"))
    var seed: UInt64 = 1

    // Numbers are taken as values even when negative, so the error line is about the number.

    /// The checked settings, or the line saying which option is wrong.
    func settings() throws(CompareInputError) -> RunComparison.Settings {
        guard threshold.isFinite, threshold >= 0, threshold < 1000 else {
            throw CompareInputError("--threshold: expected a percentage from 0 to 1000, found \(threshold)")
        }
        guard confidence.isFinite, confidence >= 50, confidence < 100 else {
            throw CompareInputError("--confidence: expected a percentage from 50 to below 100, found \(confidence)")
        }
        guard (100...1_000_000).contains(resamples) else {
            throw CompareInputError("--resamples: expected 100 to 1000000, found \(resamples)")
        }
        var chosen: [CompareMetric] = []
        for word in metrics.flatMap({ $0.split(separator: ",") }).map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            guard let metric = CompareMetric(parsing: word) else {
                throw CompareInputError("--metric: expected throughput or pN with N from 1 to 99, found \"\(word)\"")
            }
            if !chosen.contains(metric) { chosen.append(metric) }
        }
        return RunComparison.Settings(metrics: chosen.isEmpty ? CompareMetric.defaults : chosen, threshold: threshold / 100,
                                      bootstrap: BlockBootstrap(resamples: resamples, confidence: confidence / 100, seed: seed))
    }
}
