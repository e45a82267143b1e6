import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// A Triton server running inside this process through libtritonserver: made from the server
/// directory and model repository as perf_analyzer makes it, and stopped once, on every way out
/// of a run (`stop`, called from `CAPIControl.close`).
final class InProcessTritonServer: Sendable {
    let api: TritonServerAPI
    /// TRITONSERVER_Server* and the response allocator, as integers so the class stays Sendable;
    /// valid until `stop`.
    private let serverBits: UInt
    private let allocatorBits: UInt
    private let stopped = NIOLockedValueBox(false)

    var server: OpaquePointer? { OpaquePointer(bitPattern: serverBits) }
    var allocator: OpaquePointer? { OpaquePointer(bitPattern: allocatorBits) }

    private init(api: TritonServerAPI, server: OpaquePointer, allocator: OpaquePointer) {
        self.api = api
        serverBits = UInt(bitPattern: server)
        allocatorBits = UInt(bitPattern: allocator)
    }

    struct Settings: Sendable {
        var serverDirectory: String
        var modelRepository: String
        var verbosity: Int
    }

    /// Loads the library and starts the server (which loads every model of the repository, as
    /// perf_analyzer's does); off the caller's thread, since that takes seconds.
    static func start(_ settings: Settings) async throws(TritonServerError) -> InProcessTritonServer {
        let result: Result<InProcessTritonServer, TritonServerError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(TritonServerError) {
                    continuation.resume(returning: .success(try startBlocking(settings)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    private static func startBlocking(_ settings: Settings) throws(TritonServerError) -> InProcessTritonServer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: settings.serverDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TritonServerError("--triton-server-directory \(settings.serverDirectory): no such directory")
        }
        guard FileManager.default.fileExists(atPath: settings.modelRepository, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TritonServerError("--model-repository \(settings.modelRepository): no such directory")
        }
        let api = try TritonLibraryLoader.load(serverDirectory: settings.serverDirectory)
        // Triton's own log explains a failed start; it is shown only with -v.
        let hint = settings.verbosity > 0 ? "" : " (-v shows Triton's log)"
        var options: OpaquePointer?
        try api.check(api.optionsNew(&options), "Triton (in process): creating server options")
        defer { _ = api.optionsDelete(options) }
        let directory = settings.serverDirectory as NSString
        let verbose = settings.verbosity > 0
        try api.check(api.setModelRepositoryPath(options, settings.modelRepository), "Triton (in process): setting the model repository")
        try api.check(api.setBackendDirectory(options, directory.appendingPathComponent("backends")), "Triton (in process): setting the backend directory")
        try api.check(api.setRepoAgentDirectory(options, directory.appendingPathComponent("repoagents")), "Triton (in process): setting the repository agent directory")
        let caches = directory.appendingPathComponent("caches")
        if FileManager.default.fileExists(atPath: caches) {
            try api.check(api.setCacheDirectory(options, caches), "Triton (in process): setting the cache directory")
        }
        // As perf_analyzer: every model of the repository loads at start, configs are taken as written.
        try api.check(api.setModelControlMode(options, TritonServerAPI.modelControlNone), "Triton (in process): setting the model control mode")
        try api.check(api.setStrictModelConfig(options, true), "Triton (in process): setting strict model configuration")
        try api.check(api.setMinSupportedComputeCapability(options, 0), "Triton (in process): setting the minimum compute capability")
        // Nothing reads Prometheus metrics in process; without them Triton does not probe for GPUs' DCGM.
        try api.check(api.setMetrics(options, false), "Triton (in process): turning metrics off")
        try api.check(api.setExitTimeout(options, 10), "Triton (in process): setting the exit timeout")
        try api.check(api.setLogInfo(options, verbose), "Triton (in process): setting the log")
        try api.check(api.setLogWarn(options, verbose), "Triton (in process): setting the log")
        try api.check(api.setLogError(options, verbose), "Triton (in process): setting the log")
        try api.check(api.setLogVerbose(options, settings.verbosity > 1 ? 1 : 0), "Triton (in process): setting the log")

        var server: OpaquePointer?
        try api.check(api.serverNew(&server, options), "Triton (in process): starting the server\(hint)")
        guard let server else { throw TritonServerError("Triton (in process): starting the server returned no server") }
        var allocator: OpaquePointer?
        if let error = api.allocatorNew(&allocator, CAPIResponseMemory.allocate, CAPIResponseMemory.release, nil) {
            let text = api.describe(error)
            api.errorDelete(error)
            _ = api.serverStop(server)
            _ = api.serverDelete(server)
            throw TritonServerError("Triton (in process): creating the response allocator: \(text)")
        }
        let made = InProcessTritonServer(api: api, server: server, allocator: allocator!)
        // As perf_analyzer: up to 10 checks half a second apart for a live and ready server.
        for attempt in 0..<10 {
            var live = false, ready = false
            do throws(TritonServerError) {
                try api.check(api.serverIsLive(server, &live), "Triton (in process): asking whether the server is live")
                try api.check(api.serverIsReady(server, &ready), "Triton (in process): asking whether the server is ready")
            } catch {
                made.stop()
                throw error
            }
            if live && ready { return made }
            if attempt < 9 { usleep(500_000) }
        }
        made.stop()
        throw TritonServerError("Triton (in process): the server did not become live and ready within 5 s\(hint)")
    }

    /// Stops the server and frees it; later calls do nothing. Triton waits up to its exit
    /// timeout for requests still in flight.
    func stop() {
        let first = stopped.withLockedValue { value -> Bool in
            defer { value = true }
            return !value
        }
        guard first else { return }
        if let error = api.serverStop(server) { api.errorDelete(error) }
        if let error = api.serverDelete(server) { api.errorDelete(error) }
        if let error = api.allocatorDelete(allocator) { api.errorDelete(error) }
    }

    /// The `-x` version as Triton's C API takes it: -1 for the latest.
    static func version(_ text: String) throws(TritonServerError) -> Int64 {
        if text.isEmpty { return -1 }
        guard let value = Int64(text), value >= 0 else {
            throw TritonServerError("-x \(text): the C API takes a model version as a whole number")
        }
        return value
    }

    /// The JSON of a TRITONSERVER_Message a call returned; the message is deleted.
    func json(_ doing: String, _ call: (UnsafeMutablePointer<OpaquePointer?>) -> OpaquePointer?) throws(TritonServerError) -> Data {
        var message: OpaquePointer?
        try api.check(call(&message), doing)
        defer { _ = api.messageDelete(message).map { api.errorDelete($0) } }
        var base: UnsafePointer<CChar>?
        var size = 0
        try api.check(api.messageToJSON(message, &base, &size), doing)
        guard let base else { return Data() }
        return Data(bytes: base, count: size)
    }
}
