import Foundation
import PerfAnalyzerKit

// Thin on purpose: everything lives in PerfAnalyzerKit.
exit(await PerfAnalyzerMain.run(arguments: Array(CommandLine.arguments.dropFirst())))
