import NIOCore

/// Writes prepared requests back to back into large buffers, so that a million small requests
/// cost a few hundred allocations rather than a million. Each request becomes a slice of its
/// buffer (NIO slices share their storage and are written like any buffer). The slices are
/// handed out only once a buffer is full: while a slice exists, NIO would copy the buffer on
/// the next write into it, as the writer would no longer be its only owner.
struct PreparedBytesWriter {
    /// Buffers this size; a slice must start below 16 MiB, or NIO copies it out.
    static let chunkCapacity = 4 << 20
    /// Requests this large get a buffer of their own: packing them would leave much of a
    /// buffer's tail unused.
    static let ownBufferSize = chunkCapacity / 8

    private var chunk = ByteBuffer()
    /// Requests written into `chunk` and not handed out yet.
    private var pending: [(request: Int, start: Int, length: Int)] = []
    private let allocator = ByteBufferAllocator()

    /// Writes request `request` (`byteCount` bytes, by `body`). `deliver` receives the bytes of
    /// each request once they are final, perhaps later, from another call.
    mutating func write(request: Int, byteCount: Int, deliver: (_ request: Int, _ bytes: ByteBuffer) -> Void,
                        _ body: (inout ByteBuffer) -> Void) {
        if byteCount >= Self.ownBufferSize {
            var own = allocator.buffer(capacity: byteCount)
            body(&own)
            precondition(own.readableBytes == byteCount)
            deliver(request, own)
            return
        }
        if chunk.writableBytes < byteCount {
            finish(deliver: deliver)
            chunk = allocator.buffer(capacity: Self.chunkCapacity)
        }
        let start = chunk.writerIndex
        body(&chunk)
        precondition(chunk.writerIndex - start == byteCount)
        pending.append((request, start, byteCount))
    }

    /// Hands out every request written so far.
    mutating func finish(deliver: (_ request: Int, _ bytes: ByteBuffer) -> Void) {
        for entry in pending {
            deliver(entry.request, chunk.getSlice(at: entry.start, length: entry.length)!)
        }
        pending.removeAll(keepingCapacity: true)
        chunk = ByteBuffer()
    }
}
