import Foundation
import PerfAnalyzerKit

// A short benchmark through the library's API: the flags as a user would give them, resolved
// and run in this process; the report comes back through `out`.
let arguments = Array(CommandLine.arguments.dropFirst())
let options: PerfAnalyzerOptions
do {
    options = try PerfAnalyzerCommand.parse(arguments).resolve()
} catch {
    FileHandle.standardError.write(Data("library-consumer: \(error)\n".utf8))
    exit(2)
}
let status = await PerfAnalyzerRun(options: options, out: { print($0) }).run()
exit(status.rawValue)
