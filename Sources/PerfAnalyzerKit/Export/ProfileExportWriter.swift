import Foundation
import KServeProtocol
import NIOConcurrencyHelpers

/// `--profile-export-file`: perf_analyzer's profile export, written as the run goes. The loops
/// hand over a measured window's requests a few thousand at a time (and the rest when it is
/// cut), and a serial queue of its own encodes and appends them, so the process holds a few
/// batches of records however long the run; perf_analyzer keeps every record until the end
/// and writes the file then.
///
/// The layout is perf_analyzer's: `{"experiments":[{"experiment":{"mode","value"},
/// "requests":[…],"window_boundaries":[…]},…],"version","service_kind","endpoint"}`, compact,
/// one experiment per measured level with every window it took, a request in the window its
/// answer completed in. Times are nanoseconds since the Unix epoch.
final class ProfileExportWriter: RunEventConsumer, ExportSpool, @unchecked Sendable {
    /// Why the export could not be written; the run stops on it.
    struct WriteFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// The export's file, made before the run sends anything.
    final class ExportFile: @unchecked Sendable {
        let path: String
        let handle: FileHandle
        /// Whether any byte went into it (an untouched file is removed when the run does not start).
        fileprivate(set) var wasWritten = false

        fileprivate init(path: String, handle: FileHandle) {
            self.path = path
            self.handle = handle
        }

        func remove() {
            try? handle.close()
            unlink(path)
        }
    }

    /// Creates the file, which must not exist yet (perf_analyzer's rule).
    static func createFile(_ path: String) throws(WriteFailure) -> ExportFile {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let code = errno
            var isDirectory: ObjCBool = false
            let reason: String
            if code == EEXIST {
                reason = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                    ? "is a directory; name a file that does not exist yet" : "the file already exists (the export never overwrites one)"
            } else {
                reason = "cannot be created: \(String(cString: strerror(code)))"
            }
            throw WriteFailure(description: "--profile-export-file \(path): \(reason)")
        }
        return ExportFile(path: path, handle: FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
    }

    private let file: ExportFile
    /// Each request's entry, as this process renders it.
    private let encoder: ExportEntryEncoder
    private let serviceKind: String
    /// `--endpoint` (OpenAI runs), "" otherwise.
    private let endpoint: String
    private let version: String

    /// Everything below is touched on this queue only, in the order events and batches arrived.
    private let queue = DispatchQueue(label: "swift-perf-analyzer.profile-export")
    private var pending: [UInt8] = []
    private var experiments = 0
    /// The open experiment: requests written so far and its window boundaries.
    private var openLevel: LoadLevel?
    private var requestsInExperiment = 0
    private var boundaries: [UInt64] = []
    /// The open experiment's client health, once its level is measured (ours: after perf_analyzer's fields).
    private var health: ClientHealth?
    private let failed = NIOLockedValueBox<WriteFailure?>(nil)

    init(file: ExportFile, requestInputs: [[UInt8]], wire: ExportResponseOutputs.Wire, serviceKind: String, endpoint: String = "",
         version: String) {
        self.file = file
        self.endpoint = endpoint
        self.encoder = ExportEntryEncoder(requestInputs: requestInputs, wire: wire)
        self.serviceKind = serviceKind
        self.version = version
        append("{\"experiments\":[")
    }

    /// Why writing stopped, if it did (the run stops on it).
    var failure: WriteFailure? { failed.withLockedValue { $0 } }
    var hasFailed: Bool { failure != nil }

    /// Events are written in turn on the export's queue; the last one waits until the file is complete.
    func consume(_ event: RunEvent) {
        if case .runFinished = event {
            queue.sync { handle(event) }
        } else {
            queue.async { self.handle(event) }
        }
    }

    /// A measured window's requests, handed over by a loop before the window ends.
    func submit(_ batch: ExportBatch) {
        queue.async {
            guard self.failure == nil else { return }
            self.writeEntries(batch)
            if self.pending.count >= 1 << 20 { self.flush() }
        }
    }

    private func handle(_ event: RunEvent) {
        guard failure == nil else { return }
        switch event {
        case .levelStarting(let level, .measurement):
            closeExperiment()
            openExperiment(level)
        case .levelMeasured(let result):
            health = result.clientHealth
        case .levelStarting(_, .warmup), .notice, .levelAbandoned:
            break
        case .windowMeasured(let window):
            write(window)
            flush()
        case .runFinished:
            closeExperiment()
            append("],\"version\":")
            appendString(version)
            append(",\"service_kind\":")
            appendString(serviceKind)
            append(",\"endpoint\":")
            appendString(endpoint)
            append("}")
            flush()
            try? file.handle.close()
        }
        if pending.count >= 1 << 20 { flush() }
    }

    private func openExperiment(_ level: LoadLevel) {
        if experiments > 0 { append(",") }
        experiments += 1
        openLevel = level
        requestsInExperiment = 0
        boundaries = []
        switch level {
        case .concurrency(let count): append("{\"experiment\":{\"mode\":\"concurrency\",\"value\":\(count)},\"requests\":[")
        case .requestRate(let rate): append("{\"experiment\":{\"mode\":\"request_rate\",\"value\":\(ExportValueEncoding.number(rate))},\"requests\":[")
        }
    }

    private func closeExperiment() {
        guard openLevel != nil else { return }
        openLevel = nil
        append("],\"window_boundaries\":[")
        append(boundaries.map(String.init).joined(separator: ","))
        append("]")
        if let health { append(",\"client_health\":" + Self.encode(health)) }
        health = nil
        append("}")
    }

    private func write(_ window: MeasuredWindow) {
        guard openLevel != nil else { return }
        if window.spansWholeRun {
            boundaries = [0, .max]
        } else {
            // Consecutive windows share a boundary (every loop cuts at the same instant).
            let start = epoch(window.client.startNs)
            if boundaries.last != start { boundaries.append(start) }
            boundaries.append(epoch(window.client.endNs))
        }
        for batch in window.window.exported { writeEntries(batch) }
        writeRelayed(window.window.relayed)
    }

    /// `--mpi-split-load`: the other ranks' entries of this window, rendered there
    /// (comma-separated, `ExportRelay`), after rank 0's own.
    private func writeRelayed(_ entries: [UInt8]) {
        guard openLevel != nil, !entries.isEmpty else { return }
        if requestsInExperiment > 0 { append(",") }
        requestsInExperiment += 1
        pending += entries
        if pending.count >= 1 << 20 { flush() }
    }

    private func writeEntries(_ batch: ExportBatch) {
        guard openLevel != nil else { return }
        for entry in batch.entries {
            if requestsInExperiment > 0 { append(",") }
            requestsInExperiment += 1
            encoder.append(entry, of: batch, to: &pending)
            if pending.count >= 1 << 20 { flush() }
        }
    }

    /// `{"limited":…,"limits":[…],"cores":…,"cpu_utilization":…,"run_queue_wait":…,"steal":…,"send_lag_p90_ns":…,"timer_floor_p99_ns":…}`,
    /// the figures that are known.
    static func encode(_ health: ClientHealth) -> String {
        var fields = ["\"limited\":\(health.isLimited)",
                      "\"limits\":[" + health.limits.map { "\"\($0.name)\"" }.joined(separator: ",") + "]",
                      "\"cores\":\(health.cores)"]
        if let cpu = health.cpuUtilization { fields.append("\"cpu_utilization\":\(ExportValueEncoding.number(cpu))") }
        if let wait = health.runQueueWaitFraction { fields.append("\"run_queue_wait\":\(ExportValueEncoding.number(wait))") }
        if let steal = health.stealFraction { fields.append("\"steal\":\(ExportValueEncoding.number(steal))") }
        if let lag = health.sendLagP90Ns { fields.append("\"send_lag_p90_ns\":\(lag)") }
        if let floor = health.timerFloor { fields.append("\"timer_floor_p99_ns\":\(floor.p99Ns)") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private func epoch(_ monotonicNs: UInt64) -> UInt64 {
        encoder.epoch(monotonicNs)
    }

    private func append(_ text: String) {
        pending += Array(text.utf8)
    }

    private func appendString(_ text: String) {
        ExportValueEncoding.appendString(text.utf8, to: &pending)
    }

    private func flush() {
        guard !pending.isEmpty, failure == nil else { return }
        do {
            file.wasWritten = true
            try file.handle.write(contentsOf: pending)
            pending.removeAll(keepingCapacity: true)
        } catch {
            let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? error.localizedDescription
            let failure = WriteFailure(description: "--profile-export-file \(file.path): writing failed: \(Self.describe(error, fallback: reason))")
            failed.withLockedValue { $0 = failure }
            pending = []
        }
    }

    /// The system's words for a failed write (ENOSPC: "No space left on device").
    private static func describe(_ error: Error, fallback: String) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return fallback
    }

    /// `request_inputs` of an OpenAI request: its body as text under `payload`.
    static func encodePayloadInput(_ body: [UInt8]) -> [UInt8] {
        var out = Array("{\"payload\":".utf8)
        ExportValueEncoding.appendString(body, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `request_inputs` of a chat session's turn, as perf_analyzer writes them: the body sent
    /// (with the chat so far), the session's id and the turn's delay.
    static func encodeSessionInputs(body: [UInt8], sessionID: String, delayMs: UInt64?) -> [UInt8] {
        var out = Array("{\"payload\":".utf8)
        ExportValueEncoding.appendString(body, to: &out)
        out += Array(",\"session_id\":".utf8)
        ExportValueEncoding.appendString(sessionID.utf8, to: &out)
        if let delayMs { out += Array(",\"delay\":\(delayMs)".utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `request_inputs` of one data step: every input's values, by name.
    static func encodeInputs(_ step: DataStep) -> [UInt8] {
        ExportValueEncoding.object(step.tensors.sorted { $0.name < $1.name }.map { ($0.name, $0.datatype, $0.bytes) })
    }
}
