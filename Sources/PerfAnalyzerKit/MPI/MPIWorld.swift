import Foundation
import NIOConcurrencyHelpers

/// This process's place among the ranks `mpirun` started (`MPI_COMM_WORLD`), and the few
/// collectives a run needs. Every call goes through the `MPIThread`; the async ones give up
/// when `giveUp` says so (Ctrl-C, or mpirun stopping the ranks after another one ended).
public final class MPIWorld: Sendable {
    public let rank: Int
    public let size: Int
    private let library: MPILibrary
    private let thread: MPIThread
    private let giveUp: @Sendable () -> Bool
    /// Set once a collective was abandoned: its call still blocks the MPI thread.
    private let abandoned = NIOLockedValueBox(false)
    private let met = NIOLockedValueBox(false)

    /// Whether this rank has met the others in a collective yet.
    public var hasMet: Bool { met.withLockedValue { $0 } }

    /// What mpirun puts in each rank's environment (Open MPI's launcher, and PMIx's).
    static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK"]

    /// Starts MPI in this process, or says in one line why it cannot: not started by mpirun,
    /// no Open MPI library.
    public static func start(environment: [String: String] = ProcessInfo.processInfo.environment,
                             giveUp: @escaping @Sendable () -> Bool) throws(MPIError) -> MPIWorld {
        guard launcherVariables.contains(where: { environment[$0] != nil }) else {
            throw MPIError("--enable-mpi: this process was not started by mpirun (no OMPI_COMM_WORLD_SIZE in its environment); run it as `mpirun -np N perf-analyzer --enable-mpi ...`, or leave out --enable-mpi")
        }
        let library = try MPILibrary.open()
        let thread = MPIThread()
        let started: (code: Int32, rank: Int32, size: Int32) = thread.runToEnd {
            let code = library.initialize(nil, nil)
            guard code == 0 else { return (code, 0, 0) }
            // Errors come back as codes (worded here) instead of aborting every rank.
            _ = library.setErrorHandler(library.commWorld, library.errorsReturn)
            var rank: Int32 = 0, size: Int32 = 0
            _ = library.commRank(library.commWorld, &rank)
            _ = library.commSize(library.commWorld, &size)
            return (0, rank, size)
        }
        guard started.code == 0 else { throw MPIError("--enable-mpi: MPI_Init failed (error \(started.code))") }
        return MPIWorld(rank: Int(started.rank), size: Int(started.size), library: library, thread: thread, giveUp: giveUp)
    }

    private init(rank: Int, size: Int, library: MPILibrary, thread: MPIThread, giveUp: @escaping @Sendable () -> Bool) {
        self.rank = rank
        self.size = size
        self.library = library
        self.thread = thread
        self.giveUp = giveUp
    }

    public var isRoot: Bool { rank == 0 }

    /// Runs one blocking call on the MPI thread; a non-zero MPI code or giving up is an error.
    private func collective<T: Sendable>(_ what: String, _ body: @escaping @Sendable (MPILibrary) -> (Int32, T)) async throws(MPIError) -> T {
        let library = self.library
        guard let (code, value) = await thread.run({ body(library) }, giveUp: giveUp) else {
            abandoned.withLockedValue { $0 = true }
            throw MPIError("--enable-mpi: stopped while waiting for the other ranks (\(what))")
        }
        guard code == 0 else { throw MPIError("--enable-mpi: \(what) failed (MPI error \(code)): another rank may have ended") }
        met.withLockedValue { $0 = true }
        return value
    }

    /// Returns once every rank has called it.
    public func barrier() async throws(MPIError) {
        try await collective("MPI_Barrier") { ($0.barrier($0.commWorld), ()) }
    }

    /// Element-wise maximum of every rank's `values` (all ranks pass as many), on every rank.
    public func allReduceMax(_ values: [Int32]) async throws(MPIError) -> [Int32] {
        try await collective("MPI_Allreduce") { library in
            var result = [Int32](repeating: 0, count: values.count)
            let code = values.withUnsafeBytes { send in
                result.withUnsafeMutableBytes { receive in
                    library.allReduce(send.baseAddress!, receive.baseAddress!, Int32(values.count), library.intType, library.maxOp, library.commWorld)
                }
            }
            return (code, result)
        }
    }

    /// Every rank's bytes, in rank order, on rank 0; nil on the other ranks.
    public func gatherToRoot(_ bytes: [UInt8]) async throws(MPIError) -> [[UInt8]]? {
        let size = self.size
        let isRoot = self.isRoot
        return try await collective("MPI_Gather") { library in
            var length = Int32(bytes.count)
            var lengths = [Int32](repeating: 0, count: isRoot ? size : 0)
            var code = withUnsafeBytes(of: &length) { send in
                lengths.withUnsafeMutableBytes { receive in
                    library.gather(send.baseAddress!, 1, library.intType, receive.baseAddress, 1, library.intType, 0, library.commWorld)
                }
            }
            guard code == 0 else { return (code, nil) }
            var offsets = [Int32](repeating: 0, count: lengths.count)
            for index in lengths.indices.dropFirst() { offsets[index] = offsets[index - 1] + lengths[index - 1] }
            var all = [UInt8](repeating: 0, count: isRoot ? Int(lengths.reduce(0, +)) : 0)
            let send = bytes.isEmpty ? [0] : bytes
            code = send.withUnsafeBytes { sendBuffer in
                all.withUnsafeMutableBytes { receive in
                    lengths.withUnsafeBufferPointer { counts in
                        offsets.withUnsafeBufferPointer { displacements in
                            library.gatherV(sendBuffer.baseAddress!, Int32(bytes.count), library.byteType, receive.baseAddress,
                                            counts.baseAddress, displacements.baseAddress, library.byteType, 0, library.commWorld)
                        }
                    }
                }
            }
            guard code == 0, isRoot else { return (code, nil) }
            let parts = lengths.indices.map { Array(all[Int(offsets[$0])..<Int(offsets[$0] + lengths[$0])]) }
            return (0, parts)
        }
    }

    /// Rank 0's bytes, on every rank (the other ranks' argument is ignored).
    public func broadcastFromRoot(_ bytes: [UInt8]) async throws(MPIError) -> [UInt8] {
        try await collective("MPI_Bcast") { library in
            var length = Int32(bytes.count)
            var code = withUnsafeMutableBytes(of: &length) { library.broadcast($0.baseAddress!, 1, library.intType, 0, library.commWorld) }
            guard code == 0 else { return (code, []) }
            var buffer = bytes.count == Int(length) ? bytes : [UInt8](repeating: 0, count: Int(length))
            if length > 0 {
                code = buffer.withUnsafeMutableBytes { library.broadcast($0.baseAddress!, length, library.byteType, 0, library.commWorld) }
            }
            return (code, buffer)
        }
    }

    /// Ends MPI in this process; skipped when a collective was abandoned (the MPI thread is
    /// still inside it), and given up after 10 s (a rank that is gone never finalizes).
    public func finish() async {
        guard !abandoned.withLockedValue({ $0 }) else { return }
        let library = self.library
        let deadline = DispatchTime.now() + .seconds(10)
        _ = await thread.run({ library.finalize() }, giveUp: { DispatchTime.now() > deadline })
    }
}
