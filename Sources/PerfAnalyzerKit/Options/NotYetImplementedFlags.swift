/// perf_analyzer flags this build does not implement yet. Each is refused by name,
/// so a command line is never run with part of it silently ignored.
enum NotYetImplementedFlags {
    static let long: Set<String> = [
        "session-concurrency",
        "model-signature-name",
        "endpoint", "schedule", "fixed-schedule", "enable-mpi",
        // dynamic_grpc's method name; that service kind is refused too.
        "grpc-method",
    ]

    /// The first argument naming a flag we do not implement yet, as the user wrote it.
    static func firstIn(_ arguments: [String]) -> String? {
        for argument in arguments {
            if argument == "--" { return nil }
            if argument.hasPrefix("--") {
                let name = argument.dropFirst(2).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                if long.contains(name) { return "--" + name }
            }
        }
        return nil
    }
}
