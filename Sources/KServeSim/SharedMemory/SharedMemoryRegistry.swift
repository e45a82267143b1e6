import KServeProtocol
import NIOConcurrencyHelpers

/// A system shared-memory region a client registered: a name for `byteSize` bytes at
/// `offset` of the POSIX object `key`, mapped while registered.
struct SharedMemoryRegion: Sendable {
    var name: String
    var key: String
    var offset: Int
    var byteSize: Int
    /// Requests that use the region hold this too, so it stays mapped until they finish
    /// even when the region is unregistered meanwhile (it unmaps when the last holder lets go).
    var mapping: SharedMemoryMapping
}

/// The system shared-memory regions of one simulator, shared by every event loop and
/// by both protocols (a region registered over HTTP is usable over gRPC and the reverse).
/// The simulator never unlinks an object: the client that created it owns it.
final class SharedMemoryRegistry: Sendable {
    /// A refusal, with the kind Triton gives it (gRPC picks its status code from the kind).
    struct Failure: Error, Sendable, Equatable {
        enum Kind: Sendable, Equatable {
            case alreadyExists, notFound, invalidArgument, `internal`
        }
        var kind: Kind
        var message: String
    }

    private let regions = NIOLockedValueBox<[String: SharedMemoryRegion]>([:])
    /// Configured to refuse every registration (`--system-shared-memory refusing`).
    private let refusesRegistration: Bool

    init(refusesRegistration: Bool = false) {
        self.refusesRegistration = refusesRegistration
    }

    /// Maps `byteSize` bytes at `offset` of object `key` under `name`. The mapping is made
    /// under the lock, so two registrations of one name cannot both succeed.
    func register(name: String, key: String, offset: Int, byteSize: Int) throws(Failure) {
        // An empty name means "every region" to status and unregister, so no region may have it.
        guard !name.isEmpty else {
            throw Failure(kind: .invalidArgument, message: "failed to register shared memory region '': a region needs a name")
        }
        guard !refusesRegistration else {
            throw Failure(kind: .internal, message: "failed to register shared memory region '\(name)': this kserve-sim refuses registrations (--system-shared-memory refusing)")
        }
        let outcome: Result<Void, Failure> = regions.withLockedValue { regions in
            guard regions[name] == nil else {
                return .failure(Failure(kind: .alreadyExists, message: "shared memory region '\(name)' already in manager"))
            }
            do throws(SharedMemoryError) {
                let mapping = try SharedMemoryMapping.open(key: key, offset: offset, byteSize: byteSize)
                regions[name] = SharedMemoryRegion(name: name, key: key, offset: offset, byteSize: byteSize, mapping: mapping)
                return .success(())
            } catch {
                return .failure(Self.registrationFailure(error, name: name, key: key))
            }
        }
        try outcome.get()
    }

    /// Forgets one region (nil: all of them); an unknown name is no error, as with Triton.
    /// A forgotten region unmaps when the last request using it lets go of its mapping.
    func unregister(name: String?) {
        regions.withLockedValue { regions in
            if let name { regions[name] = nil } else { regions.removeAll() }
        }
    }

    /// One region (fails when `name` is not registered) or, for nil, all of them by name.
    func status(name: String?) throws(Failure) -> [SharedMemoryRegion] {
        let found: [SharedMemoryRegion]? = regions.withLockedValue { regions in
            guard let name else { return regions.values.sorted { $0.name < $1.name } }
            return regions[name].map { [$0] }
        }
        guard let found else {
            throw Failure(kind: .notFound, message: "Unable to find system shared memory region: '\(name ?? "")'")
        }
        return found
    }

    /// The region a request names, or nil when none is registered under `name`.
    func region(named name: String) -> SharedMemoryRegion? {
        regions.withLockedValue { $0[name] }
    }

    /// Unregisters everything and unmaps it now, even mappings a request still holds (their
    /// later accesses fail instead of touching unmapped memory). For the simulator's shutdown.
    func closeAll() {
        let dropped = regions.withLockedValue { regions in
            defer { regions.removeAll() }
            return Array(regions.values)
        }
        for region in dropped { region.mapping.close() }
    }

    private static func registrationFailure(_ error: SharedMemoryError, name: String, key: String) -> Failure {
        switch error {
        case .rangeOutsideObject, .invalidRange:
            return Failure(kind: .invalidArgument, message: "failed to register shared memory region '\(name)': invalid args: \(error)")
        case .systemCall("shm_open", _, _):
            return Failure(kind: .internal, message: "Unable to open shared memory region: '\(key)' (registering region '\(name)'): \(error)")
        default:
            return Failure(kind: .internal, message: "failed to register shared memory region '\(name)': \(error)")
        }
    }
}
