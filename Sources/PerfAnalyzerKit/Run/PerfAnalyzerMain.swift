import ArgumentParser
import Foundation

/// The `perf-analyzer` entry point: parse, check, run, and map the outcome to an exit code.
/// Every command-line problem is one line on stderr and a non-zero exit before anything is sent.
public enum PerfAnalyzerMain {
    public static func run(arguments: [String]) async -> Int32 {
        if arguments.first == "compare" { return CompareMain.run(arguments: Array(arguments.dropFirst())) }
        let errorLine: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        if arguments.first == "report" { return ReportCommand.run(arguments: Array(arguments.dropFirst()), err: errorLine).rawValue }
        if let flag = RefusedFlags.firstIn(arguments) {
            errorLine("error: \(RefusedFlags.refusal(flag))")
            return ExitStatus.failure.rawValue
        }
        let command: PerfAnalyzerCommand
        do {
            command = try PerfAnalyzerCommand.parse(CommandLineSpelling.normalized(arguments))
        } catch {
            if PerfAnalyzerCommand.exitCode(for: error) == .success {
                print(PerfAnalyzerCommand.fullMessage(for: error))
                return ExitStatus.success.rawValue
            }
            let message = PerfAnalyzerCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            errorLine("error: \(message) (see perf-analyzer --help)")
            return ExitStatus.failure.rawValue
        }
        if command.general.version {
            print("perf-analyzer \(PerfAnalyzerCommand.version) (swift-perf-analyzer; command line of perf_analyzer 2.50)")
            return ExitStatus.success.rawValue
        }
        for notice in command.deprecationNotices { errorLine(notice) }
        let options: PerfAnalyzerOptions
        do {
            options = try command.resolve()
        } catch {
            errorLine("error: \(error.description)")
            return ExitStatus.failure.rawValue
        }
        Diagnostics.bootstrap(verbosity: options.verbosity)
        // A write past the file-size limit then fails with EFBIG, which the export reports,
        // instead of killing the process before it can say what was measured.
        signal(SIGXFSZ, SIG_IGN)
        let interruption = Interruption {
            errorLine("Interrupt received: finishing the requests in flight, then reporting what was measured.")
        }
        var run = PerfAnalyzerRun(options: options, err: errorLine)
        if options.mpi != nil {
            do throws(MPIError) {
                run = try MPIRanks.prepare(run, giveUp: { interruption.isRequested })
            } catch {
                errorLine("error: \(error.description)")
                return ExitStatus.failure.rawValue
            }
        }
        return await run.run(interruption: interruption).rawValue
    }
}
