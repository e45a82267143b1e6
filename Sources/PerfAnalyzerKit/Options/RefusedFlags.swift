/// perf_analyzer flags this build refuses, each with its reason: flags of the service kinds
/// and run modes not implemented yet, and of the kinds with no server here to test against.
/// Refused by name before parsing, so a command line never runs with part of it ignored.
enum RefusedFlags {
    private static let noServer = "which perf-analyzer does not support: there is no such server here to test it against"

    /// Long flag names (without the dashes) and why each is refused.
    static let reasons: [String: String] = [
        "schedule": "was perf_analyzer 2.53-2.55's list of send times, replaced by --fixed-schedule (timestamps in --input-data), which perf-analyzer takes",
        "model-signature-name": "belongs to --service-kind tfserving, \(noServer)",
        "grpc-method": "belongs to --service-kind dynamic_grpc, \(noServer)",
    ]

    /// The first argument naming a refused flag, as the user wrote it.
    static func firstIn(_ arguments: [String]) -> String? {
        for argument in arguments {
            if argument == "--" { return nil }
            if argument.hasPrefix("--") {
                let name = argument.dropFirst(2).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                if reasons[name] != nil { return "--" + name }
            }
        }
        return nil
    }

    /// The one line that refuses `flag` (as `firstIn` returned it).
    static func refusal(_ flag: String) -> String {
        "\(flag) is a perf_analyzer flag that perf-analyzer refuses: it \(reasons[String(flag.dropFirst(2))] ?? "is not implemented")"
    }
}
