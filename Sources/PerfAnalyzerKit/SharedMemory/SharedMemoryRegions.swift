import Foundation
import KServeProtocol
import Synchronization

/// The shared-memory regions of one run: created and filled before the load, registered
/// with the server, and always given back when the run ends, however it ends (unregistered
/// from the server, then unlinked or freed here). Names start with a prefix unique to the
/// run (process id and a random part), so two runs on one machine never collide, and only
/// this run's regions are ever unregistered.
final class SharedMemoryRegions: Sendable {
    struct Region: Sendable {
        let name: String
        let storage: any RegionStorage
    }

    enum Kind: Sendable, Equatable {
        case system
        case cuda(device: Int)

        /// How the flag and the messages name it.
        var flagValue: String {
            if case .cuda = self { return "cuda" }
            return "system"
        }

        /// Triton's name for the server extension.
        var extensionName: String {
            if case .cuda = self { return "cuda_shared_memory" }
            return "system_shared_memory"
        }
    }

    let kind: Kind
    /// Starts every region name: `spa_<pid>_<random>`.
    let prefix: String
    private let cuda: CUDARuntime?

    private struct State {
        var regions: [Region] = []
        var registered: [String] = []
    }
    private let state = Mutex(State())

    /// Sets that still hold memory, for the immediate exit of a second Ctrl-C.
    private static let live = Mutex<[ObjectIdentifier: SharedMemoryRegions]>([:])

    private init(kind: Kind, cuda: CUDARuntime?) {
        self.kind = kind
        self.cuda = cuda
        prefix = "spa_\(getpid())_\(String(UInt32.random(in: .min ... .max), radix: 16))"
    }

    /// A run's set; for CUDA this loads the runtime and checks for a GPU first, so a
    /// machine without either is told in one line before anything is sent.
    static func make(kind: Kind) throws -> SharedMemoryRegions {
        var runtime: CUDARuntime? = nil
        if case .cuda(let device) = kind {
            do {
                runtime = try CUDARuntime.load(device: device)
            } catch {
                throw RunError(error.description)
            }
        }
        let regions = SharedMemoryRegions(kind: kind, cuda: runtime)
        live.withLock { $0[ObjectIdentifier(regions)] = regions }
        return regions
    }

    /// Creates a region of `byteSize` bytes named `prefix_suffix` (tensor names cleaned to
    /// what a POSIX object name allows), filled with `contents` when given.
    func create(suffix: String, byteSize: Int, contents: [UInt8]? = nil) throws -> Region {
        let name = prefix + "_" + Self.clean(suffix)
        // A zero-byte object cannot be mapped; an empty tensor still gets one byte.
        let size = max(byteSize, 1)
        let storage: any RegionStorage
        do {
            switch kind {
            case .system:
                storage = try SystemRegionStorage(key: "/" + name, byteSize: size)
            case .cuda(let device):
                storage = try CUDARegionStorage(runtime: cuda!, byteSize: size, device: device)
            }
        } catch {
            throw RunError("--shared-memory \(kind.flagValue): region '\(name)' of \(size) bytes could not be created: \(error)")
        }
        let region = Region(name: name, storage: storage)
        state.withLock { $0.regions.append(region) }
        if let contents, !contents.isEmpty {
            do {
                try storage.write(contents, at: 0)
            } catch {
                throw RunError("--shared-memory \(kind.flagValue): filling region '\(name)' with \(contents.count) bytes failed: \(error)")
            }
        }
        return region
    }

    /// Registers every region not yet registered. A server without the extension, or one
    /// that refuses a region, is told in one line naming the region and its size.
    func register(with server: any InferenceServerControl, url: String, extensions: [String]?) async throws {
        let flag = "--shared-memory \(kind.flagValue)"
        if let extensions, !extensions.isEmpty, !extensions.contains(kind.extensionName) {
            throw RunError("\(flag): the server at \(url) does not offer the \(kind.extensionName) extension (it lists \(extensions.joined(separator: ", ")))")
        }
        let pending = state.withLock { state in state.regions.filter { !state.registered.contains($0.name) } }
        for region in pending {
            do {
                switch region.storage {
                case let system as SystemRegionStorage:
                    try await server.registerSystemSharedMemory(name: region.name, key: system.key, offset: 0, byteSize: system.byteSize)
                case let gpu as CUDARegionStorage:
                    let handle: [UInt8]
                    do {
                        handle = try gpu.ipcHandle()
                    } catch {
                        throw RunError(error.description)
                    }
                    try await server.registerCUDASharedMemory(name: region.name, rawHandle: handle, deviceID: gpu.device, byteSize: gpu.byteSize)
                default:
                    preconditionFailure("unknown region storage")
                }
            } catch SharedMemoryCallError.notOffered(let detail) {
                throw RunError("\(flag): the server at \(url) does not offer the \(kind.extensionName) extension (\(detail))")
            } catch SharedMemoryCallError.refused(let message) {
                throw RunError("\(flag): the server refused to register region '\(region.name)' (\(region.storage.byteSize) bytes): \(message)")
            } catch let error as ConnectionError {
                throw RunError(error.description)
            }
            state.withLock { $0.registered.append(region.name) }
        }
    }

    /// Unregisters this run's regions from the server (when it can still be reached), then
    /// gives the memory back. Only names this run registered are unregistered.
    func release(from server: (any InferenceServerControl)?) async {
        let registered = state.withLock { state in
            defer { state.registered = [] }
            return state.registered
        }
        if let server {
            for name in registered {
                do {
                    switch kind {
                    case .system: try await server.unregisterSystemSharedMemory(name: name)
                    case .cuda: try await server.unregisterCUDASharedMemory(name: name)
                    }
                } catch is ConnectionError {
                    // The server is gone: no use waiting on a connection for each region.
                    break
                } catch {
                    continue
                }
            }
        }
        releaseLocally()
    }

    /// Gives the memory back without asking the server (unlink, free). Idempotent.
    func releaseLocally() {
        let regions = state.withLock { state in
            defer { state.regions = [] }
            return state.regions
        }
        for region in regions { region.storage.release() }
        _ = Self.live.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) }
    }

    /// Every set of this process, for an exit that cannot wait for the server.
    static func releaseAllLocally() {
        let sets = live.withLock { Array($0.values) }
        for set in sets { set.releaseLocally() }
    }

    /// What a POSIX object name and a URL path segment both take: letters, digits, `_`, `-`, `.`.
    static func clean(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            let allowed = (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) || scalar == "_" || scalar == "-" || scalar == "."
            return allowed ? Character(scalar) : "_"
        })
    }
}
