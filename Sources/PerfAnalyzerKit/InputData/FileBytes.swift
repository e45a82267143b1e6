#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads straight into a byte array: one allocation, no Foundation `Data` copy.
enum FileBytes {
    /// The file's bytes; with `zeroTerminated`, one extra 0 byte after them (the JSON scanner's sentinel).
    static func contents(of path: String, zeroTerminated: Bool = false) throws(InputDataError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw InputDataError("\(path): cannot open: \(lastError())") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw InputDataError("\(path): cannot read: \(lastError())") }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            let what = (status.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw InputDataError("\(path): cannot read: it is \(what)")
        }
        guard let size = Int(exactly: status.st_size), size < Int.max - 1 else {
            throw InputDataError("\(path): cannot read: size \(status.st_size) is out of range")
        }
        var bytes = [UInt8](repeating: 0, count: size + (zeroTerminated ? 1 : 0))
        var filled = 0
        let failure: String? = bytes.withUnsafeMutableBytes { buffer in
            while filled < size {
                let got = read(descriptor, buffer.baseAddress! + filled, size - filled)
                if got < 0 {
                    if errno == EINTR { continue }
                    return lastError()
                }
                if got == 0 { break }  // the file shrank while being read
                filled += got
            }
            return nil
        }
        if let failure { throw InputDataError("\(path): cannot read: \(failure)") }
        if filled < size {
            bytes.removeSubrange(filled..<size)
        }
        return bytes
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
