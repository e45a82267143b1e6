import ArgumentParser
import Dispatch
import KServeSim
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `kserve-sim`: serves simulated models over the KServe v2 HTTP protocol until
/// it receives SIGINT or SIGTERM.
struct KServeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kserve-sim",
        abstract: "A small, fast KServe v2 inference server with simulated models.",
        discussion: """
            Answers health, metadata, config, statistics and infer requests the way Triton \
            does, for a fixed set of test models (identity_fp32, identity_int32_dynamic, \
            identity_bytes, add_sub, sequence_accumulator, double_fp32, ensemble_fp32). \
            Once listening it prints one line, "kserve-sim: HTTP listening on HOST:PORT", \
            and runs until SIGINT or SIGTERM.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "HTTP port; 0 picks a free one (printed when listening).")
    var httpPort = 8000

    @Option(name: .customLong("grpc-port"), help: "gRPC port. Accepted for command-line compatibility; gRPC is not served yet.")
    var grpcPort = 8001

    @Option(name: .customLong("delay-us"), help: "Extra compute time per model execution, in microseconds.")
    var delayMicroseconds = 0

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("record"), help: ArgumentHelp("Append one JSON line per inference request to this file.", valueName: "file"))
    var recordPath: String?

    func validate() throws {
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be in 0...65535") }
        guard (0...65535).contains(grpcPort) else { throw ValidationError("--grpc-port must be in 0...65535") }
        guard delayMicroseconds >= 0 else { throw ValidationError("--delay-us must not be negative") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let simulator = KServeSimulator(configuration: SimulatorConfiguration(
            host: host, httpPort: httpPort, grpcPort: grpcPort, delayMicroseconds: delayMicroseconds,
            threads: threads ?? System.coreCount, recordPath: recordPath))
        // Ignore the signals before listening, so one arriving early still stops us cleanly.
        let termination = TerminationSignal()
        let port: Int
        do {
            port = try await simulator.start()
        } catch {
            FileHandleOutput.standardError("kserve-sim: \(error)")
            throw ExitCode(1)
        }
        print("kserve-sim: HTTP listening on \(host):\(port)")
        fflush(nil)  // stdout may be a pipe; the reader waits for this line.
        await termination.wait()
        try await simulator.stop()
    }
}

/// Waits for SIGINT or SIGTERM through Dispatch signal sources (the default
/// action, dying on the spot, would skip flushing the record file).
final class TerminationSignal: @unchecked Sendable {
    // Guarded by `lock`; sources stay referenced so they keep firing.
    private let lock = DispatchQueue(label: "kserve-sim.signals")
    private var sources: [DispatchSourceSignal] = []
    private var fired = false
    private var waiter: CheckedContinuation<Void, Never>?

    init() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: lock)
            source.setEventHandler { [unowned self] in
                fired = true
                waiter?.resume()
                waiter = nil
            }
            source.resume()
            sources.append(source)
        }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            lock.async {
                if self.fired { continuation.resume() } else { self.waiter = continuation }
            }
        }
    }
}

enum FileHandleOutput {
    static func standardError(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

// Parsed by hand because a file named main.swift cannot carry @main.
let command = KServeSimCommand.parseOrExit()
do {
    try await command.run()
} catch {
    KServeSimCommand.exit(withError: error)
}
