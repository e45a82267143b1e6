/// Finding bytes eight at a time in a machine word (SWAR). The runs searched on the hot paths
/// (an HTTP head's lines, a JSON string's contents) are a few dozen bytes long, where this
/// beats both a call to `memchr` and a loop over single bytes.
public enum ByteScan {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let lowBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// The high bit of each byte of `word` that is zero, and of no other byte.
    @inlinable @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        ~(((word & lowBits) &+ lowBits) | word | lowBits)
    }

    /// The high bit of each byte of `word` below 0x20, and of no other byte.
    @inlinable @inline(__always)
    static func controlBytes(_ word: UInt64) -> UInt64 {
        // Adding 0x60 to a byte below 0x80 sets its high bit exactly when it is 0x20 or more.
        ~(((word & lowBits) &+ (ones &* 0x60)) | word | lowBits)
    }

    /// The marks (high bits) of the bytes of `word` that cannot stand as they are inside a JSON
    /// string: quotes and backslashes in `escaped`, control characters in `control`.
    @inlinable @inline(__always)
    static func stringStops(_ word: UInt64) -> (escaped: UInt64, control: UInt64) {
        (zeroBytes(word ^ (ones &* 0x22)) | zeroBytes(word ^ (ones &* 0x5C)), controlBytes(word))
    }

    /// The offset, within its word, of the first byte marked by the functions above.
    @inlinable @inline(__always)
    static func firstMarked(_ marks: UInt64) -> Int {
        #if _endian(little)
        return marks.trailingZeroBitCount >> 3
        #else
        return marks.leadingZeroBitCount >> 3
        #endif
    }

    /// The index of the first `target` in `base[start..<end]`, or nil.
    @inlinable @inline(__always)
    public static func first(_ target: UInt8, in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
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
    @inlinable @inline(__always)
    public static func first(_ a: UInt8, or b: UInt8, in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
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

    /// The index of the first byte in `base[start..<end]` that cannot stand as it is inside a
    /// JSON string (a quote, a backslash or a control character), or `end` when there is none.
    @inlinable @inline(__always)
    public static func firstStringStop(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        var index = start
        while index + 8 <= end {
            let (escaped, control) = stringStops(base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let marks = escaped | control
            if marks != 0 { return index + firstMarked(marks) }
            index += 8
        }
        while index < end {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == 0x22 || byte == 0x5C || byte < 0x20 { return index }
            index += 1
        }
        return end
    }
}
