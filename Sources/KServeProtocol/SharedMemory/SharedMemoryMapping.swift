#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Why a POSIX shared-memory object could not be opened, created, mapped or used.
/// Each case reads as one sentence naming the object, the call and the sizes involved.
public enum SharedMemoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed; `errno` is what it left behind.
    case systemCall(call: String, key: String, errno: Int32)
    /// The requested range does not lie inside the object.
    case rangeOutsideObject(key: String, offset: Int, byteSize: Int, objectSize: Int)
    /// A negative offset, or a byte size that is not positive.
    case invalidRange(key: String, offset: Int, byteSize: Int)
    /// An access past the end of the mapped range.
    case accessOutsideMapping(key: String, offset: Int, count: Int, byteSize: Int)
    /// The mapping was closed; its memory is no longer mapped.
    case closed(key: String)
    /// This platform offers no `shm_open` that Swift can call (Darwin's is variadic).
    case unsupportedPlatform

    public var description: String {
        switch self {
        case .systemCall(let call, let key, let code):
            return "\(call) failed for shared memory object '\(key)': \(String(cString: strerror(code))) (errno \(code))"
        case .rangeOutsideObject(let key, let offset, let byteSize, let objectSize):
            return "offset \(offset) + byte size \(byteSize) = \(offset + byteSize) exceeds the \(objectSize) bytes of shared memory object '\(key)'"
        case .invalidRange(let key, let offset, let byteSize):
            return "invalid range of shared memory object '\(key)': offset \(offset) must not be negative and byte size \(byteSize) must be positive"
        case .accessOutsideMapping(let key, let offset, let count, let byteSize):
            return "access to \(count) bytes at offset \(offset) runs past the \(byteSize) mapped bytes of shared memory object '\(key)'"
        case .closed(let key):
            return "the mapping of shared memory object '\(key)' is closed"
        case .unsupportedPlatform:
            return "POSIX shared memory (shm_open) is not available to Swift on this platform"
        }
    }

    /// True when `shm_open` found no object under the key.
    public var isMissingObject: Bool {
        if case .systemCall("shm_open", _, let code) = self { return code == ENOENT }
        return false
    }
}

/// A read-write mapping of `byteSize` bytes at `offset` of a POSIX shared-memory object
/// (`shm_open` + `mmap`). The memory stays mapped until `close()` or deinit, so whoever
/// holds the object may use it; the object itself outlives the mapping until someone
/// calls ``unlink(key:)``.
///
/// `Sendable`: the mapping state sits behind a lock, and every access runs under it, so
/// `close()` on one thread waits for an access on another and never unmaps under it.
/// The bytes themselves are shared with other processes; keeping writers apart is the
/// users' protocol (a client writes inputs before it sends a request, a server writes
/// outputs before it answers).
public final class SharedMemoryMapping: Sendable {
    /// The object's name, as given to `shm_open` (POSIX wants a leading "/").
    public let key: String
    /// Where the mapped range starts in the object.
    public let offset: Int
    /// How many bytes are mapped.
    public let byteSize: Int
    /// The object's size when it was opened.
    public let objectSize: Int

    /// What `mmap` returned: mmap offsets must be page aligned, so the mapping starts at
    /// the page holding `offset`, and `lead` bytes precede the range we were asked for.
    private struct Mapped: Sendable {
        var pageStart: UInt
        var length: Int
        var lead: Int
    }

    /// Nil once closed.
    private let mapped: Mutex<Mapped?>

    private init(key: String, offset: Int, byteSize: Int, objectSize: Int, mapped: Mapped) {
        self.key = key
        self.offset = offset
        self.byteSize = byteSize
        self.objectSize = objectSize
        self.mapped = Mutex(mapped)
    }

    deinit {
        close()
    }

    /// Maps `offset..<offset+byteSize` of an existing object.
    public static func open(key: String, offset: Int = 0, byteSize: Int) throws(SharedMemoryError) -> SharedMemoryMapping {
        guard offset >= 0, byteSize > 0 else { throw .invalidRange(key: key, offset: offset, byteSize: byteSize) }
        let fd = try openObject(key: key, flags: O_RDWR)
        defer { _ = closeDescriptor(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .systemCall(call: "fstat", key: key, errno: errno) }
        let objectSize = Int(status.st_size)
        // Written so that a huge offset cannot overflow the sum.
        guard offset <= objectSize, byteSize <= objectSize - offset else {
            throw .rangeOutsideObject(key: key, offset: offset, byteSize: byteSize, objectSize: objectSize)
        }
        let mapped = try map(fd: fd, key: key, offset: offset, byteSize: byteSize)
        return SharedMemoryMapping(key: key, offset: offset, byteSize: byteSize, objectSize: objectSize, mapped: mapped)
    }

    /// Creates a new object of `byteSize` bytes (failing if `key` exists) and maps all of it.
    /// The caller owns the object and removes it with ``unlink(key:)``.
    public static func create(key: String, byteSize: Int) throws(SharedMemoryError) -> SharedMemoryMapping {
        guard byteSize > 0 else { throw .invalidRange(key: key, offset: 0, byteSize: byteSize) }
        let fd = try openObject(key: key, flags: O_CREAT | O_EXCL | O_RDWR)
        defer { _ = closeDescriptor(fd) }
        do throws(SharedMemoryError) {
            guard ftruncate(fd, off_t(byteSize)) == 0 else { throw .systemCall(call: "ftruncate", key: key, errno: errno) }
            let mapped = try map(fd: fd, key: key, offset: 0, byteSize: byteSize)
            return SharedMemoryMapping(key: key, offset: 0, byteSize: byteSize, objectSize: byteSize, mapped: mapped)
        } catch {
            // Half-made objects would otherwise linger in /dev/shm under a name nobody owns.
            try? unlink(key: key)
            throw error
        }
    }

    /// Removes the object's name; mappings made earlier stay valid until they close.
    public static func unlink(key: String) throws(SharedMemoryError) {
        #if canImport(Glibc) || canImport(Musl)
        guard shm_unlink(key) == 0 else { throw .systemCall(call: "shm_unlink", key: key, errno: errno) }
        #else
        throw .unsupportedPlatform
        #endif
    }

    /// False once `close()` ran.
    public var isOpen: Bool { mapped.withLock { $0 != nil } }

    /// Runs `body` on the mapped bytes (`byteSize` of them, starting at `offset` of the object).
    /// The mapping cannot close meanwhile; do not call back into this mapping from `body`.
    public func withUnsafeMutableBytes<Result: Sendable>(
        _ body: (UnsafeMutableRawBufferPointer) throws -> Result
    ) throws -> Result {
        try mapped.withLock { state throws -> Result in
            guard let state else { throw SharedMemoryError.closed(key: key) }
            let start = UnsafeMutableRawPointer(bitPattern: state.pageStart)! + state.lead
            return try body(UnsafeMutableRawBufferPointer(start: start, count: byteSize))
        }
    }

    /// A copy of `count` bytes at `position` (relative to the mapped range).
    public func read(at position: Int = 0, count: Int) throws(SharedMemoryError) -> [UInt8] {
        try checkAccess(at: position, count: count)
        return try untyped {
            try withUnsafeMutableBytes { Array(UnsafeRawBufferPointer(rebasing: $0[position..<(position + count)])) }
        }
    }

    /// Copies `bytes` into the mapped range at `position`.
    public func write(_ bytes: UnsafeRawBufferPointer, at position: Int = 0) throws(SharedMemoryError) {
        try checkAccess(at: position, count: bytes.count)
        guard !bytes.isEmpty else { return }
        try untyped {
            try withUnsafeMutableBytes { $0.baseAddress!.advanced(by: position).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        }
    }

    /// Unmaps the range; later accesses fail with ``SharedMemoryError/closed(key:)``. Safe to call twice.
    public func close() {
        mapped.withLock { state in
            guard let current = state else { return }
            _ = munmap(UnsafeMutableRawPointer(bitPattern: current.pageStart), current.length)
            state = nil
        }
    }

    // MARK: Helpers

    private func checkAccess(at position: Int, count: Int) throws(SharedMemoryError) {
        guard position >= 0, count >= 0, position <= byteSize, count <= byteSize - position else {
            throw .accessOutsideMapping(key: key, offset: position, count: count, byteSize: byteSize)
        }
    }

    /// Narrows the untyped accessor back to this type's error (its bodies here never throw).
    private func untyped<Result>(_ body: () throws -> Result) throws(SharedMemoryError) -> Result {
        do {
            return try body()
        } catch let error as SharedMemoryError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    private static func openObject(key: String, flags: Int32) throws(SharedMemoryError) -> Int32 {
        #if canImport(Glibc) || canImport(Musl)
        let fd = shm_open(key, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .systemCall(call: "shm_open", key: key, errno: errno) }
        return fd
        #else
        throw .unsupportedPlatform
        #endif
    }

    private static func map(fd: Int32, key: String, offset: Int, byteSize: Int) throws(SharedMemoryError) -> Mapped {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lead = offset % pageSize
        let length = lead + byteSize
        guard let pointer = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(offset - lead)),
              pointer != UnsafeMutableRawPointer(bitPattern: -1)  // MAP_FAILED
        else {
            throw .systemCall(call: "mmap", key: key, errno: errno)
        }
        return Mapped(pageStart: UInt(bitPattern: pointer), length: length, lead: lead)
    }

    private static func closeDescriptor(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.close(fd)
        #elseif canImport(Musl)
        return Musl.close(fd)
        #else
        return Darwin.close(fd)
        #endif
    }
}
