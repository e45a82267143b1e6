import KServeProtocol
import Synchronization

/// Where a shared-memory region's bytes live: a POSIX object this run created, or GPU
/// memory. The client writes inputs before the load and reads outputs to validate them.
protocol RegionStorage: Sendable {
    var byteSize: Int { get }
    func write(_ bytes: [UInt8], at offset: Int) throws
    func read(at offset: Int, count: Int) throws -> [UInt8]
    /// Gives the memory back: unmaps and unlinks the object, or frees the GPU buffer. Idempotent.
    func release()
}

/// A POSIX shared-memory object (`/dev/shm` on Linux) created and owned by this run.
final class SystemRegionStorage: RegionStorage {
    let key: String
    private let mapping: SharedMemoryMapping

    init(key: String, byteSize: Int) throws(SharedMemoryError) {
        self.key = key
        mapping = try SharedMemoryMapping.create(key: key, byteSize: byteSize)
    }

    var byteSize: Int { mapping.byteSize }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { buffer in try mapping.write(buffer, at: offset) as Void }
    }

    func read(at offset: Int, count: Int) throws -> [UInt8] {
        try mapping.read(at: offset, count: count)
    }

    func release() {
        guard mapping.isOpen else { return }
        mapping.close()
        try? SharedMemoryMapping.unlink(key: key)
    }
}

/// GPU memory from `cudaMalloc`, shared with the server through its IPC handle.
final class CUDARegionStorage: RegionStorage {
    let runtime: CUDARuntime
    let buffer: CUDADeviceBuffer
    let device: Int
    private let freed = Atomic(false)

    init(runtime: CUDARuntime, byteSize: Int, device: Int) throws(CUDAFailure) {
        self.runtime = runtime
        self.device = device
        buffer = try runtime.allocate(byteSize: byteSize)
    }

    var byteSize: Int { buffer.byteSize }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { raw in try runtime.copyToDevice(raw, buffer: buffer, offset: offset) as Void }
    }

    func read(at offset: Int, count: Int) throws -> [UInt8] {
        try runtime.copyFromDevice(buffer: buffer, offset: offset, count: count)
    }

    func ipcHandle() throws(CUDAFailure) -> [UInt8] {
        try runtime.ipcHandle(for: buffer)
    }

    func release() {
        guard !freed.exchange(true, ordering: .relaxed) else { return }
        runtime.free(buffer)
    }
}
