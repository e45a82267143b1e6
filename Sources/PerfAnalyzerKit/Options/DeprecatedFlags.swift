import ArgumentParser

extension PerfAnalyzerCommand {
    /// perf_analyzer's deprecated spellings, still found in older scripts. Each is read as the
    /// flag that replaced it (as perf_analyzer's documentation describes it) with a one-line
    /// notice on stderr.
    public struct Deprecated: ParsableArguments {
        @Option(name: .customShort("t"), parsing: .unconditional, help: ArgumentHelp("Deprecated: concurrent requests; use --concurrency-range.", valueName: "n"))
        var concurrentRequests: Int?

        @Option(name: .customShort("c"), parsing: .unconditional, help: ArgumentHelp("Deprecated: highest concurrency to search up to; use --concurrency-range.", valueName: "n"))
        var maxConcurrency: Int?

        @Flag(name: .customShort("d"), help: "Deprecated: search concurrencies from -t (or 1) up to -c; use --concurrency-range.")
        var dynamicConcurrency = false

        @Flag(name: .customShort("z"), help: "Deprecated: zero input data; use --input-data zero.")
        var zeroInput = false

        @Option(name: .long, help: ArgumentHelp("Deprecated: a directory of input data; use --input-data.", valueName: "path"))
        var dataDirectory: String?

        public init() {}

        var usesConcurrencyFlags: Bool { concurrentRequests != nil || maxConcurrency != nil || dynamicConcurrency }

        /// The `--concurrency-range` the concurrency flags stand for: `-t n` alone is one level of
        /// n; `-c` (or `-d`) sweeps from `-t` (or 1) up to it, step 1; `-d` without `-c` has no
        /// upper end and stops at the latency limit.
        var concurrencyRangeText: String? {
            guard usesConcurrencyFlags else { return nil }
            let start = concurrentRequests ?? 1
            let end = maxConcurrency ?? (dynamicConcurrency ? 0 : start)
            return "\(start):\(end):1"
        }

        /// One line per deprecated flag given, naming what it was read as.
        var notices: [String] {
            var lines: [String] = []
            if let range = concurrencyRangeText {
                let given = [concurrentRequests.map { "-t \($0)" }, maxConcurrency.map { "-c \($0)" }, dynamicConcurrency ? "-d" : nil]
                    .compactMap { $0 }.joined(separator: " ")
                lines.append("warning: \(given) is deprecated; read as --concurrency-range \(range)")
            }
            if zeroInput { lines.append("warning: -z is deprecated; read as --input-data zero") }
            if let dataDirectory { lines.append("warning: --data-directory is deprecated; read as --input-data \(dataDirectory)") }
            return lines
        }
    }

    /// The deprecated flags rewritten as their replacements, refused where they clash with them.
    mutating func foldDeprecatedFlags() throws(OptionError) {
        if let range = deprecated.concurrencyRangeText {
            if let given = [measurement.concurrencyRange.map { _ in "--concurrency-range" },
                            measurement.requestRateRange.map { _ in "--request-rate-range" },
                            measurement.requestIntervals.map { _ in "--request-intervals" },
                            measurement.periodicConcurrencyRange.map { _ in "--periodic-concurrency-range" }].compactMap({ $0 }).first {
                throw OptionError("-t, -c and -d are the deprecated form of --concurrency-range; they cannot be combined with \(given)")
            }
            measurement.concurrencyRange = range
        }
        if deprecated.zeroInput {
            if deprecated.dataDirectory != nil {
                throw OptionError("-z (zero input data) cannot be combined with --data-directory")
            }
            if !inputData.inputData.isEmpty {
                throw OptionError("-z is the deprecated form of --input-data zero; give one or the other")
            }
            inputData.inputData = ["zero"]
        }
        if let directory = deprecated.dataDirectory {
            inputData.inputData.append(directory)
        }
    }
}
