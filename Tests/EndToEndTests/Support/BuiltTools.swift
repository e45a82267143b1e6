import Foundation

/// Finds the executables `swift build` put beside the test bundle.
enum BuiltTools {
    static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["PERF_ANALYZER_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        // The test runner lives in .build/<config>/, next to the products.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("perf-analyzer").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
    }

    /// The package root, for the project's scripts.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static var perfAnalyzer: String { directory.appendingPathComponent("perf-analyzer").path }
    static var kserveSim: String { directory.appendingPathComponent("kserve-sim").path }
}

/// The outcome of one CLI run.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
    /// The process id it ran under (run-unique names such as shared-memory regions carry it).
    var pid: Int32 = 0
}

enum CommandRunner {
    /// Runs `path` with `arguments` to its end, killing it after `timeout` seconds.
    static func run(_ path: String, _ arguments: [String], timeout: TimeInterval = 120,
                    environment: [String: String] = [:]) throws -> CommandResult {
        let command = try BackgroundCommand(path, arguments, environment: environment)
        let exited = command.waitForExit(timeout: timeout)
        return CommandResult(status: command.process.isRunning ? -1 : command.process.terminationStatus, stdout: command.stdout.text(),
                             stderr: command.stderr.text(), timedOut: !exited, pid: command.process.processIdentifier)
    }

    /// The same, waited for on a thread of its own: an async test that blocked one of Swift's
    /// cooperative threads (one per core, two in CI) for a whole run would starve every other
    /// async test of the suite, and their own time limits then fire.
    static func run(_ path: String, _ arguments: [String], timeout: TimeInterval = 120,
                    environment: [String: String] = [:]) async throws -> CommandResult {
        try await onOwnThread { try run(path, arguments, timeout: timeout, environment: environment) }
    }
}

/// Runs blocking `work` on a new thread and resumes the caller with its result, leaving the
/// cooperative pool free while it blocks.
func onOwnThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// A command left running while the test acts on it (kills its server, sends Ctrl-C).
/// Sendable so that an async test can wait for it on another thread; `Process` and the drains
/// are safe to read from any thread.
final class BackgroundCommand: @unchecked Sendable {
    let process = Process()
    let stdout: Drain
    let stderr: Drain

    /// `environment` adds to (or overrides) the test's own environment.
    init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes while it runs, so a chatty command never blocks on a full pipe.
        stdout = Drain(out.fileHandleForReading)
        stderr = Drain(err.fileHandleForReading)
    }

    /// Waits up to `timeout` seconds; true when the command ended by itself. Otherwise it
    /// gets SIGINT, then SIGKILL, and the answer is false.
    func waitForExit(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let exited = !process.isRunning
        if !exited {
            process.interrupt()
            Thread.sleep(forTimeInterval: 2)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        // Bounded: Foundation's Process now and then misses a child's exit (it stays a zombie
        // and waitUntilExit() never returns); such a run reads as status -1.
        let reaped = Date().addingTimeInterval(10)
        while process.isRunning && Date() < reaped { Thread.sleep(forTimeInterval: 0.02) }
        return exited
    }

    /// The same, waited for on a thread of its own (see `CommandRunner.run`).
    func waitForExit(timeout: TimeInterval) async -> Bool {
        (try? await onOwnThread { self.waitForExit(timeout: timeout) }) ?? false
    }
}

/// Reads a pipe to its end on a background thread.
final class Drain: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data.append(chunk)
                lock.unlock()
            }
            done.signal()
        }
    }

    /// What has arrived so far, without waiting for the end.
    func snapshot() -> String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    func text() -> String {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
