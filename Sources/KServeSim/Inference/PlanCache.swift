import NIOCore

/// Validated plans keyed by the exact bytes of the JSON header that produced them.
/// One cache per event loop, shared by the connections on that loop: it is only
/// touched on its loop, so it needs no lock, and it stays warm for clients that
/// open a fresh connection per request.
final class PlanCache {
    private struct Key: Hashable {
        var model: Int
        var hasBinaryBody: Bool
        var header: ByteBuffer
    }

    /// Bounds memory: at most this many plans, and headers up to this size
    /// (a pure-JSON request's "header" is its whole body, data included).
    private let capacity: Int
    private let largestHeader: Int
    private var plans: [Key: InferPlan] = [:]
    /// The plan used last: a byte comparison instead of a hash for the common case.
    private var recent: (key: Key, plan: InferPlan)?

    init(capacity: Int = 256, largestHeader: Int = 64 * 1024) {
        self.capacity = capacity
        self.largestHeader = largestHeader
    }

    func plan(
        model: Int, header: ByteBuffer, hasBinaryBody: Bool,
        build: () throws(InferError) -> InferPlan
    ) throws(InferError) -> InferPlan {
        if let recent, recent.key.model == model, recent.key.hasBinaryBody == hasBinaryBody,
           recent.key.header == header {
            return recent.plan
        }
        if let position = plans.index(forKey: Key(model: model, hasBinaryBody: hasBinaryBody, header: header)) {
            // Remember the stored key, not the request's slice of its body.
            let (key, known) = plans[position]
            recent = (key, known)
            return known
        }
        let plan = try build()
        guard header.readableBytes <= largestHeader else { return plan }
        // Copy the key so a cached entry does not keep a whole request body alive.
        var owned = ByteBufferAllocator().buffer(capacity: header.readableBytes)
        owned.writeImmutableBuffer(header)
        let key = Key(model: model, hasBinaryBody: hasBinaryBody, header: owned)
        // Clearing when full is crude but O(1) amortized; real clients cycle few headers.
        if plans.count >= capacity { plans.removeAll(keepingCapacity: true) }
        plans[key] = plan
        recent = (key, plan)
        return plan
    }

    var count: Int { plans.count }
}
