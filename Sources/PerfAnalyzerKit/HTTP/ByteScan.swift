/// Finding bytes eight at a time in a machine word (SWAR). The framer's line and colon searches
/// and the answer check's string ends cover runs of a few dozen bytes, where this beats a call
/// to `memchr` and a byte-at-a-time loop alike.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let lowBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// The high bit of each byte of `word` that is zero, and of no other byte.
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        ~(((word & lowBits) &+ lowBits) | word | lowBits)
    }

    /// The offset, within its word, of the first byte `zeroBytes` marked.
    @inline(__always)
    private static func firstMarked(_ marks: UInt64) -> Int {
        #if _endian(little)
        return marks.trailingZeroBitCount >> 3
        #else
        return marks.leadingZeroBitCount >> 3
        #endif
    }

    /// The index of the first `target` in `base[start..<end]`, or nil.
    @inline(__always)
    static func first(_ target: UInt8, in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        let pattern = ones &* UInt64(target)
        var index = start
        while index + 8 <= end {
            let marks = zeroBytes(base.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ pattern)
            if marks != 0 { return index + firstMarked(marks) }
            index += 8
        }
        while index < end {
            if base.load(fromByteOffset: index, as: UInt8.self) == target { return index }
            index += 1
        }
        return nil
    }

    /// The index of the first `a` or `b` in `base[start..<end]`, or `end` when there is none.
    @inline(__always)
    static func first(_ a: UInt8, or b: UInt8, in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        let patternA = ones &* UInt64(a)
        let patternB = ones &* UInt64(b)
        var index = start
        while index + 8 <= end {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let marks = zeroBytes(word ^ patternA) | zeroBytes(word ^ patternB)
            if marks != 0 { return index + firstMarked(marks) }
            index += 8
        }
        while index < end {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == a || byte == b { return index }
            index += 1
        }
        return end
    }
}
