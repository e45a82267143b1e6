#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One line saying what went wrong with CUDA, for the user.
struct CUDAFailure: Error, Sendable, CustomStringConvertible {
    let description: String

    /// Prefixes the flag so the user knows which option needed CUDA, and keeps the text on one line.
    init(_ message: String) {
        let flat = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        description = "--shared-memory cuda: " + flat
    }
}

/// Device memory from cudaMalloc: the device address and its size.
struct CUDADeviceBuffer: Sendable, Equatable {
    let address: UInt
    let byteSize: Int

    /// Checks that `count` bytes starting at `offset` lie inside the buffer, before CUDA is asked
    /// to copy them: CUDA itself does not know the buffer's size and could corrupt other memory.
    func checkRange(offset: Int, count: Int, copying direction: String) throws(CUDAFailure) {
        guard offset >= 0, count >= 0 else {
            throw CUDAFailure("cannot copy \(count) bytes \(direction) offset \(offset) of a \(byteSize)-byte GPU buffer: "
                + "offset and size must not be negative")
        }
        // Compared by subtraction so huge values cannot overflow.
        guard offset <= byteSize, count <= byteSize - offset else {
            let room = offset > byteSize ? "the offset is past its end" : "only \(byteSize - offset) bytes fit from there"
            throw CUDAFailure("cannot copy \(count) bytes \(direction) offset \(offset) of a \(byteSize)-byte GPU buffer: \(room)")
        }
    }

    /// The device address `offset` bytes in, as a pointer for CUDA calls.
    fileprivate func pointer(at offset: Int = 0) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(bitPattern: address &+ UInt(offset))
    }
}

/// The CUDA runtime (libcudart), opened with dlopen at run time so the package builds and runs
/// on machines without CUDA; only `--shared-memory cuda` needs it.
///
/// Sendable: every stored property is immutable, and the CUDA runtime API may be called from any thread.
final class CUDARuntime: Sendable {
    // The C signatures used, with cudaError_t (a C enum) as Int32 and size_t as Int (same ABI).
    private typealias GetDeviceCount = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    private typealias SetDevice = @convention(c) (Int32) -> Int32
    private typealias Malloc = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> Int32
    private typealias Memcpy = @convention(c) (UnsafeMutableRawPointer?, UnsafeRawPointer?, Int, Int32) -> Int32
    // cudaIpcMemHandle_t is a 64-byte struct passed by pointer here, so a raw pointer to 64 bytes fits.
    private typealias IpcGetMemHandle = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer?) -> Int32
    private typealias Free = @convention(c) (UnsafeMutableRawPointer?) -> Int32
    private typealias GetErrorString = @convention(c) (Int32) -> UnsafePointer<CChar>?

    // cudaMemcpyKind values.
    private static let hostToDevice: Int32 = 1
    private static let deviceToHost: Int32 = 2

    /// The size of cudaIpcMemHandle_t (`char reserved[64]`).
    static let ipcHandleSize = 64

    /// Library names tried in order with dlopen (the dynamic loader's search path, LD_LIBRARY_PATH included).
    static let libraryNames = ["libcudart.so", "libcudart.so.12", "libcudart.so.11"]

    /// The library that was opened: its path as the loader found it where known, else the name given.
    let library: String
    /// The GPU every call runs on, and how many the runtime saw.
    let device: Int
    let deviceCount: Int

    /// The dlopen handle as an integer, so the class stays Sendable; kept open for the process's
    /// lifetime (see `load`).
    private let handle: UInt
    private let getDeviceCount: GetDeviceCount
    private let setDevice: SetDevice
    private let malloc: Malloc
    private let memcpy: Memcpy
    private let ipcGetMemHandle: IpcGetMemHandle
    private let cudaFree: Free
    private let getErrorString: GetErrorString

    /// Resolves every symbol up front (so a wrong or partial library fails here, not mid-run) and
    /// asks how many GPUs there are.
    private init(handle: UnsafeMutableRawPointer, name: String, device: Int) throws(CUDAFailure) {
        func symbol<F>(_ symbolName: String, as type: F.Type) throws(CUDAFailure) -> F {
            guard let address = dlsym(handle, symbolName) else {
                throw CUDAFailure("\(name) has no symbol \(symbolName)")
            }
            return unsafeBitCast(address, to: type)
        }
        let getDeviceCount = try symbol("cudaGetDeviceCount", as: GetDeviceCount.self)
        let setDevice = try symbol("cudaSetDevice", as: SetDevice.self)
        let malloc = try symbol("cudaMalloc", as: Malloc.self)
        let memcpy = try symbol("cudaMemcpy", as: Memcpy.self)
        let ipcGetMemHandle = try symbol("cudaIpcGetMemHandle", as: IpcGetMemHandle.self)
        let cudaFree = try symbol("cudaFree", as: Free.self)
        let getErrorString = try symbol("cudaGetErrorString", as: GetErrorString.self)
        let library = Self.loadedPath(of: dlsym(handle, "cudaGetDeviceCount")) ?? name

        // The count is only written on success (without a driver it is left untouched).
        var count: Int32 = 0
        let status = getDeviceCount(&count)
        guard status == 0 else {
            throw CUDAFailure("the CUDA runtime (\(library)) found no GPU: \(Self.explain(status, with: getErrorString))")
        }
        guard count > 0 else {
            throw CUDAFailure("the CUDA runtime (\(library)) found no GPU (0 devices)")
        }

        self.handle = UInt(bitPattern: handle)
        self.library = library
        self.device = device
        self.deviceCount = Int(count)
        self.getDeviceCount = getDeviceCount
        self.setDevice = setDevice
        self.malloc = malloc
        self.memcpy = memcpy
        self.ipcGetMemHandle = ipcGetMemHandle
        self.cudaFree = cudaFree
        self.getErrorString = getErrorString
    }

    /// Loads the first library that opens, resolves every symbol, then checks that a GPU is there
    /// (cudaGetDeviceCount) and selects `device` (cudaSetDevice).
    ///
    /// On success the library stays loaded for the rest of the process: unloading the CUDA runtime
    /// while its context exists is not safe, and a run needs it until the end anyway.
    static func load(device: Int = 0, libraryNames: [String] = libraryNames) throws(CUDAFailure) -> CUDARuntime {
        var opened: (handle: UnsafeMutableRawPointer, name: String)?
        var lastError = "nothing was opened"
        for name in libraryNames {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
                opened = (handle, name)
                break
            }
            lastError = dlerror().map { String(cString: $0) } ?? "\(name): cannot be opened"
        }
        guard let opened else {
            let tried = libraryNames.isEmpty ? "no library names to try" : "tried " + libraryNames.joined(separator: ", ")
            throw CUDAFailure("no CUDA runtime found (\(tried)): \(lastError)")
        }
        do {
            let runtime = try CUDARuntime(handle: opened.handle, name: opened.name, device: device)
            try runtime.selectDevice()
            return runtime
        } catch {
            // Nothing from this library is kept, so it can go.
            dlclose(opened.handle)
            throw error
        }
    }

    /// Makes `device` current on the calling thread. CUDA keeps the current device per thread and
    /// Swift tasks hop between threads, so every call that depends on it selects it first.
    private func selectDevice() throws(CUDAFailure) {
        guard device >= 0, device < deviceCount, let ordinal = Int32(exactly: device) else {
            throw CUDAFailure("cannot use GPU \(device) of \(deviceCount): GPUs are numbered 0 to \(deviceCount - 1)")
        }
        let status = setDevice(ordinal)
        guard status == 0 else {
            throw CUDAFailure("cannot use GPU \(device) of \(deviceCount): \(explain(status))")
        }
    }

    /// cudaMalloc of `byteSize` bytes on the selected GPU.
    func allocate(byteSize: Int) throws(CUDAFailure) -> CUDADeviceBuffer {
        guard byteSize > 0 else {
            throw CUDAFailure("cudaMalloc of \(byteSize) bytes: the size must be at least 1 byte")
        }
        try selectDevice()
        var pointer: UnsafeMutableRawPointer?
        let status = malloc(&pointer, byteSize)
        guard status == 0, let pointer else {
            let reason = status == 0 ? "it returned no address" : explain(status)
            throw CUDAFailure("cudaMalloc of \(byteSize) bytes on GPU \(device) failed: \(reason)")
        }
        return CUDADeviceBuffer(address: UInt(bitPattern: pointer), byteSize: byteSize)
    }

    /// Copies host bytes into the buffer at `offset` (cudaMemcpy, host to device).
    func copyToDevice(_ bytes: UnsafeRawBufferPointer, buffer: CUDADeviceBuffer, offset: Int) throws(CUDAFailure) {
        try buffer.checkRange(offset: offset, count: bytes.count, copying: "to")
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        try selectDevice()
        let status = memcpy(buffer.pointer(at: offset), source, bytes.count, Self.hostToDevice)
        guard status == 0 else {
            throw CUDAFailure("cudaMemcpy of \(bytes.count) bytes to offset \(offset) of a \(buffer.byteSize)-byte "
                + "GPU buffer failed: \(explain(status))")
        }
    }

    /// Copies `count` bytes from the buffer at `offset` back to the host (cudaMemcpy, device to host).
    func copyFromDevice(buffer: CUDADeviceBuffer, offset: Int, count: Int) throws(CUDAFailure) -> [UInt8] {
        try buffer.checkRange(offset: offset, count: count, copying: "from")
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        try selectDevice()
        let status = bytes.withUnsafeMutableBytes { destination in
            memcpy(destination.baseAddress, buffer.pointer(at: offset), count, Self.deviceToHost)
        }
        guard status == 0 else {
            throw CUDAFailure("cudaMemcpy of \(count) bytes from offset \(offset) of a \(buffer.byteSize)-byte "
                + "GPU buffer failed: \(explain(status))")
        }
        return bytes
    }

    /// The buffer's cudaIpcMemHandle_t: 64 opaque bytes another process (the server) opens to reach it.
    func ipcHandle(for buffer: CUDADeviceBuffer) throws(CUDAFailure) -> [UInt8] {
        try selectDevice()
        var handle = [UInt8](repeating: 0, count: Self.ipcHandleSize)
        let status = handle.withUnsafeMutableBytes { raw in
            ipcGetMemHandle(raw.baseAddress!, buffer.pointer())
        }
        guard status == 0 else {
            throw CUDAFailure("cudaIpcGetMemHandle for a \(buffer.byteSize)-byte GPU buffer failed: \(explain(status))")
        }
        return handle
    }

    /// cudaFree; errors are ignored because this runs on cleanup paths where nothing better can be done.
    func free(_ buffer: CUDADeviceBuffer) {
        _ = try? selectDevice()
        _ = cudaFree(buffer.pointer())
    }

    /// "<cudaGetErrorString text> (cudaError <code>)".
    private func explain(_ status: Int32) -> String {
        Self.explain(status, with: getErrorString)
    }

    private static func explain(_ status: Int32, with getErrorString: GetErrorString) -> String {
        let text = getErrorString(status).map { String(cString: $0) } ?? "unknown error"
        return "\(text) (cudaError \(status))"
    }

    /// The file the loader actually opened for a symbol, so messages name the real library
    /// rather than a bare soname. dladdr is looked up at run time too: Glibc's module does not
    /// export it (it is a GNU extension there); Dl_info is four pointers on every libc.
    private static func loadedPath(of symbol: UnsafeMutableRawPointer?) -> String? {
        typealias DLAddr = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer) -> Int32
        guard let symbol, let global = dlopen(nil, RTLD_NOW) else { return nil }
        defer { dlclose(global) }
        guard let address = dlsym(global, "dladdr") else { return nil }
        let dladdr = unsafeBitCast(address, to: DLAddr.self)
        // dli_fname, dli_fbase, dli_sname, dli_saddr
        var info: (UnsafePointer<CChar>?, UnsafeRawPointer?, UnsafePointer<CChar>?, UnsafeRawPointer?) = (nil, nil, nil, nil)
        let found = withUnsafeMutableBytes(of: &info) { dladdr(symbol, $0.baseAddress!) }
        guard found != 0, let name = info.0 else { return nil }
        let path = String(cString: name)
        return path.isEmpty ? nil : path
    }
}
