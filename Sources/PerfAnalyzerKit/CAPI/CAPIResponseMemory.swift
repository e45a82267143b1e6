#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where Triton writes a response's outputs: plain CPU memory from malloc, given back when the
/// response is deleted (right after it arrives, once read back when the run validates or exports).
enum CAPIResponseMemory {
    static let allocate: TritonServerAPI.AllocFn = { _, _, byteSize, _, _, _, buffer, bufferUserp, actualType, actualID in
        buffer?.pointee = byteSize == 0 ? nil : malloc(byteSize)
        bufferUserp?.pointee = nil
        actualType?.pointee = TritonServerAPI.memoryCPU
        actualID?.pointee = 0
        return nil
    }

    static let release: TritonServerAPI.ReleaseFn = { _, buffer, _, _, _, _ in
        free(buffer)
        return nil
    }
}
