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

    static var perfAnalyzer: String { directory.appendingPathComponent("perf-analyzer").path }
    static var kserveSim: String { directory.appendingPathComponent("kserve-sim").path }
}

/// The outcome of one CLI run.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

enum CommandRunner {
    /// Runs `path` with `arguments`, killing it after `timeout` seconds.
    static func run(_ path: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes while waiting, so a chatty run never blocks on a full pipe.
        let outData = Drain(out.fileHandleForReading)
        let errData = Drain(err.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.interrupt()
                Thread.sleep(forTimeInterval: 2)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: outData.text(), stderr: errData.text(), timedOut: timedOut)
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

    func text() -> String {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
