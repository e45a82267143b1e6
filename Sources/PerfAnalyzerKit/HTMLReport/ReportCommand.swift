import ArgumentParser
import Foundation

/// `perf-analyzer report EXPORT.json -o FILE`: the HTML report of an existing profile export.
struct ReportCommand: ParsableArguments {
    static let usage = "perf-analyzer report EXPORT.json -o FILE [-s PERCENT]"

    @Argument(help: ArgumentHelp("A profile export written by --profile-export-file (ours or perf_analyzer's).", valueName: "export.json"))
    var export: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var output: String

    @Option(name: [.customShort("s"), .long], help: ArgumentHelp("The stability percentage the run used, for the band around its windows. (default: 10)", valueName: "percent"))
    var stabilityPercentage: Double = 10

    init() {}

    /// Reads, renders, writes; every problem is one line on stderr and a non-zero exit.
    static func run(arguments: [String], err: @Sendable (String) -> Void) -> ExitStatus {
        let command: ReportCommand
        do {
            command = try parse(arguments)
        } catch {
            if exitCode(for: error) == .success {
                print(helpMessage(columns: 100).replacingOccurrences(of: "USAGE: report", with: "USAGE: perf-analyzer report"))
                return .success
            }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            err("error: report: \(message) (usage: \(usage))")
            return .failure
        }
        guard command.stabilityPercentage > 0, command.stabilityPercentage <= 100 else {
            err("error: report -s: expected a percentage above 0 and at most 100, found \(formatG(command.stabilityPercentage))")
            return .failure
        }
        do {
            let document = try ProfileExportDocument.read(command.export)
            let name = URL(fileURLWithPath: command.export).deletingPathExtension().lastPathComponent
            let model = HTMLReportModel(export: document, name: name, stabilityPercentage: command.stabilityPercentage)
            guard !model.levels.isEmpty else {
                err("error: report: \(command.export): the export holds no experiments (levels) to report")
                return .failure
            }
            try HTMLPage.write(model, to: command.output)
        } catch let failure as ProfileExportDocument.ReadFailure {
            // One line, whatever the JSON parser's words held.
            err("error: report: " + failure.description.split(whereSeparator: \.isNewline).joined(separator: " "))
            return .failure
        } catch let failure as HTMLPage.WriteFailure {
            err("error: report -o \(command.output): \(failure.description)")
            return .failure
        } catch {
            err("error: report: \(error)")
            return .failure
        }
        return .success
    }
}
