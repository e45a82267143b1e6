#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The last bytes read and what reading them gave, so that the same bytes again are known by
/// one comparison instead of being read again. A load connection gets the same answer over and
/// over: a server repeats its response head (a Date line changes once a second) and, for the same
/// input, its answer's JSON. What is remembered is exactly what the bytes gave, so a repeat
/// cannot read differently; bytes that differ are read in full.
///
/// The bytes live in storage made once (`limit` bytes), so remembering allocates nothing.
struct RepeatMemo<Value> {
    private var stored: [UInt8]
    private var count = 0
    private var value: Value?

    /// Longer byte runs are not remembered.
    init(limit: Int) {
        stored = [UInt8](repeating: 0, count: limit)
    }

    /// The value remembered, when `bytes` starts with the bytes it came from.
    @inline(__always)
    func value(atStartOf bytes: UnsafeRawBufferPointer) -> Value? {
        guard let value, bytes.count >= count, let base = bytes.baseAddress else { return nil }
        return stored.withUnsafeBytes { memcmp($0.baseAddress!, base, count) } == 0 ? value : nil
    }

    /// The value remembered, when `bytes` are exactly the bytes it came from.
    @inline(__always)
    func value(for bytes: UnsafeRawBufferPointer) -> Value? {
        bytes.count == count ? value(atStartOf: bytes) : nil
    }

    /// Remembers that `bytes` gave `value` (forgets instead when they are over the limit).
    mutating func remember(_ bytes: UnsafeRawBufferPointer, gave value: Value) {
        guard bytes.count <= stored.count, let base = bytes.baseAddress else {
            self.value = nil
            return
        }
        count = bytes.count
        stored.withUnsafeMutableBytes { _ = memcpy($0.baseAddress!, base, bytes.count) }
        self.value = value
    }
}
