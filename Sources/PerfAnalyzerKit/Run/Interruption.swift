import Atomics
@preconcurrency import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the first SIGINT or SIGTERM into a flag the profiler polls, so the run ends
/// cleanly and prints what it measured; a second signal exits at once, and so does the
/// first one if the run has not ended `graceSeconds` later (every wait of a run is bounded,
/// so this is a last resort, not the way a run ends).
public final class Interruption: @unchecked Sendable {
    private let flag = ManagedAtomic(false)
    /// Set once the run has ended: the backstop then leaves the process alone (a program using
    /// the library may go on after a run).
    private let runEnded = ManagedAtomic(false)
    private let sources: [DispatchSourceSignal]
    private nonisolated(unsafe) static var keepAlive: Interruption?

    public var isRequested: Bool { flag.load(ordering: .relaxed) }
    public static let graceSeconds = 20

    public init(onFirst: @escaping @Sendable () -> Void) {
        let flag = self.flag
        let runEnded = self.runEnded
        var made: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if flag.exchange(true, ordering: .relaxed) {
                    Self.exitNow("Exiting immediately...")
                }
                onFirst()
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Self.graceSeconds)) {
                    guard !runEnded.load(ordering: .relaxed) else { return }
                    Self.exitNow("error: the run did not end within \(Self.graceSeconds) s of the interrupt; exiting now")
                }
            }
            source.resume()
            made.append(source)
        }
        sources = made
        Self.keepAlive = self
    }

    /// The run this interruption watches has ended.
    public func markRunEnded() {
        runEnded.store(true, ordering: .relaxed)
    }

    private static func exitNow(_ line: String) -> Never {
        // No time to ask the server, but this run's shared memory must not outlive it.
        SharedMemoryRegions.releaseAllLocally()
        let message = line + "\n"
        _ = write(2, message, message.utf8.count)
        exit(ExitStatus.interrupted.rawValue)
    }
}
