/// perf_analyzer spellings the argument parser cannot read as they are, rewritten before parsing.
enum CommandLineSpelling {
    /// Words that give `--ssl-grpc-use-ssl` an explicit value (ours also takes them).
    private static let booleanWords: Set<String> = ["true", "false", "1", "0", "yes", "no", "on", "off"]

    /// `--ssl-grpc-use-ssl` is a bare switch in perf_analyzer (its documentation writes
    /// `--ssl-grpc-use-ssl --ssl-grpc-root-certifications-file ca.pem`); the parser wants a
    /// value, so a bare one gets `true`. An explicit value is kept.
    static func normalized(_ arguments: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(arguments.count + 1)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            result.append(argument)
            if argument == "--" {
                result += arguments[(index + 1)...]
                break
            }
            if argument == "--ssl-grpc-use-ssl" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if next.map({ !booleanWords.contains($0.lowercased()) }) ?? true { result.append("true") }
            }
            index += 1
        }
        return result
    }
}
