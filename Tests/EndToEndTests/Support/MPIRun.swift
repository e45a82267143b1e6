import Foundation

/// `mpirun` from Open MPI (scripts/install-mpi.sh, run by scripts/test.sh). Without it the MPI
/// tests fail; they never skip.
enum MPIRun {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "mpirun not found (MPIRUN unset and not on PATH): the MPI tests need Open MPI; run scripts/install-mpi.sh or the suite with scripts/test.sh" }
    }

    static func mpirun() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["MPIRUN"], FileManager.default.isExecutableFile(atPath: path) { return path }
        for directory in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(directory)/mpirun"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw Missing()
    }

    /// What every run passes: root is allowed (containers), more ranks than cores (CI has two),
    /// each line tagged with its rank, and TCP on loopback only.
    static let common = ["--allow-run-as-root", "--oversubscribe", "--tag-output", "--mca", "btl", "self,tcp",
                         "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]

    /// `mpirun` with `apps`, each `(ranks, perf-analyzer arguments)` (several: one MPMD line);
    /// `directories`, when given, is each app's working directory (`-wdir`).
    static func arguments(_ apps: [(Int, [String])], extra: [String] = [], directories: [String]? = nil) -> [String] {
        var arguments = common + extra
        for (index, (ranks, perfArguments)) in apps.enumerated() {
            if index > 0 { arguments.append(":") }
            arguments += ["-np", String(ranks)]
            if let directories { arguments += ["-wdir", directories[index]] }
            arguments += [BuiltTools.perfAnalyzer] + perfArguments
        }
        return arguments
    }

    static func run(_ apps: [(Int, [String])], timeout: TimeInterval = 180, extra: [String] = [], directories: [String]? = nil) async throws -> CommandResult {
        try await CommandRunner.run(try mpirun(), arguments(apps, extra: extra, directories: directories), timeout: timeout)
    }

    /// The lines rank `rank` wrote to `stream` ("stdout" or "stderr"), without mpirun's tag.
    static func lines(of rank: Int, _ text: String, stream: String = "stdout") -> String {
        let tag = "[1,\(rank)]<\(stream)>:"
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.hasPrefix(tag) }.map { String($0.dropFirst(tag.count)) }.joined(separator: "\n")
    }
}
