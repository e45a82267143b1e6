import Foundation

/// `perf-analyzer compare`: reads both files, compares them, prints the table and maps the
/// outcome to an exit status for CI.
public enum CompareMain {
    public enum Status: Int32, Sendable {
        case noRegression = 0
        case badInput = 1
        case regressed = 2
    }

    /// `arguments` follow the word `compare`.
    public static func run(arguments: [String]) -> Int32 {
        let errorLine = { (line: String) in FileHandle.standardError.write(Data(("error: " + line + "\n").utf8)) }
        let command: CompareCommand
        do {
            command = try CompareCommand.parse(arguments)
        } catch {
            if CompareCommand.exitCode(for: error) == .success {
                print(CompareCommand.fullMessage(for: error))
                return Status.noRegression.rawValue
            }
            let message = CompareCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            errorLine("\(message) (see perf-analyzer compare --help)")
            return Status.badInput.rawValue
        }
        do {
            let settings = try command.settings()
            let base = try CompareInput.read(path: command.base, metrics: settings.metrics)
            let new = try CompareInput.read(path: command.new, metrics: settings.metrics)
            let comparison = try RunComparison.compare(base: base, new: new, settings: settings)
            print(ComparisonTable(basePath: command.base, newPath: command.new, settings: settings).render(comparison), terminator: "")
            return (comparison.regressed ? Status.regressed : Status.noRegression).rawValue
        } catch {
            errorLine(error.description)
            return Status.badInput.rawValue
        }
    }
}
