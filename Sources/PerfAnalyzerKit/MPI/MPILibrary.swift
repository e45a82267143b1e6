import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Open MPI's libmpi opened at run time with dlopen (as perf_analyzer does), so the binary runs
/// unchanged where MPI is not installed. Open MPI's predefined handles (`MPI_COMM_WORLD`,
/// `MPI_INT`, the reduction operators) are the addresses of global objects, `ompi_mpi_*`,
/// resolved with dlsym; other MPI implementations spell them differently and are refused.
///
/// Every function here blocks; only `MPIThread` calls them.
struct MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias Init = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32
    typealias IntOut = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias CommIntOut = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    typealias CommOnly = @convention(c) (Handle) -> Int32
    typealias NoArguments = @convention(c) () -> Int32
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    typealias SetErrorHandler = @convention(c) (Handle, Handle) -> Int32
    typealias LibraryVersion = @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    /// MPI_Allreduce(send, receive, count, type, op, comm)
    typealias AllReduce = @convention(c) (UnsafeRawPointer, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle) -> Int32
    /// MPI_Gather(send, count, type, receive, count, type, root, comm)
    typealias Gather = @convention(c) (UnsafeRawPointer, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    /// MPI_Gatherv(send, count, type, receive, counts, displacements, type, root, comm)
    typealias GatherV = @convention(c) (UnsafeRawPointer, Int32, Handle, UnsafeMutableRawPointer?, UnsafePointer<Int32>?, UnsafePointer<Int32>?,
                                       Handle, Int32, Handle) -> Int32
    /// MPI_Bcast(buffer, count, type, root, comm)
    typealias Broadcast = @convention(c) (UnsafeMutableRawPointer, Int32, Handle, Int32, Handle) -> Int32

    let path: String
    let initialize: Init
    let initialized: IntOut
    let finalize: NoArguments
    let abort: Abort
    let commSize: CommIntOut
    let commRank: CommIntOut
    let barrier: CommOnly
    let allReduce: AllReduce
    let gather: Gather
    let gatherV: GatherV
    let broadcast: Broadcast
    let setErrorHandler: SetErrorHandler
    let libraryVersion: LibraryVersion

    let commWorld: Handle
    let intType: Handle
    let byteType: Handle
    let maxOp: Handle
    let errorsReturn: Handle

    /// The names tried in turn: perf_analyzer's, then the runtime soname Debian's openmpi-bin
    /// installs without the development symlink.
    static let names = ["libmpi.so", "libmpi.so.40"]

    /// Opens libmpi and resolves everything the run uses, or says in one line why it cannot.
    static func open() throws(MPIError) -> MPILibrary {
        var tried: [String] = []
        for name in names {
            // Global: Open MPI's plugins, opened later by libmpi itself, resolve its symbols.
            if let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) {
                return try MPILibrary(handle: handle, path: name)
            }
            tried.append(dlerror().map { String(cString: $0) } ?? name)
        }
        throw MPIError("--enable-mpi: cannot load Open MPI's library (tried \(names.joined(separator: ", ")); install Open MPI, e.g. Debian's openmpi-bin, or put libmpi.so on LD_LIBRARY_PATH): \(tried.first ?? "")")
    }

    private init(handle: UnsafeMutableRawPointer, path: String) throws(MPIError) {
        self.path = path
        func symbol(_ name: String) throws(MPIError) -> UnsafeMutableRawPointer {
            guard let address = dlsym(handle, name) else {
                throw MPIError("--enable-mpi: \(path) has no symbol \(name); perf-analyzer works with Open MPI only")
            }
            return address
        }
        func function<T>(_ name: String, _ type: T.Type) throws(MPIError) -> T {
            unsafeBitCast(try symbol(name), to: type)
        }
        initialize = try function("MPI_Init", Init.self)
        initialized = try function("MPI_Initialized", IntOut.self)
        finalize = try function("MPI_Finalize", NoArguments.self)
        abort = try function("MPI_Abort", Abort.self)
        commSize = try function("MPI_Comm_size", CommIntOut.self)
        commRank = try function("MPI_Comm_rank", CommIntOut.self)
        barrier = try function("MPI_Barrier", CommOnly.self)
        allReduce = try function("MPI_Allreduce", AllReduce.self)
        gather = try function("MPI_Gather", Gather.self)
        gatherV = try function("MPI_Gatherv", GatherV.self)
        broadcast = try function("MPI_Bcast", Broadcast.self)
        setErrorHandler = try function("MPI_Comm_set_errhandler", SetErrorHandler.self)
        let version = try function("MPI_Get_library_version", LibraryVersion.self)
        libraryVersion = version
        // The version first: an MPI other than Open MPI has no ompi_mpi_* objects to name.
        var text = [CChar](repeating: 0, count: 8192)
        var length: Int32 = 0
        _ = version(&text, &length)
        let words = String(decoding: text.prefix(Int(max(0, min(length, 8191)))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard words.hasPrefix("Open MPI") else {
            let first = words.split(whereSeparator: \.isNewline).first.map(String.init) ?? "an unknown MPI"
            throw MPIError("--enable-mpi: \(path) is \(first); perf-analyzer works with Open MPI only")
        }
        commWorld = try symbol("ompi_mpi_comm_world")
        intType = try symbol("ompi_mpi_int")
        byteType = try symbol("ompi_mpi_byte")
        maxOp = try symbol("ompi_mpi_op_max")
        errorsReturn = try symbol("ompi_mpi_errors_return")
    }
}
