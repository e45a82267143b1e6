import KServeProtocol

/// Where a tensor's bytes lie in a registered region, as a request's tensor parameters
/// (`shared_memory_region`, `shared_memory_byte_size`, optional `shared_memory_offset`)
/// name them. It is part of a cached plan, so it holds names only; the region itself is
/// looked up for each request (``resolve(in:tensor:model:)``), since it may come and go.
struct SharedMemoryReference: Sendable, Equatable {
    var region: String
    /// Bytes from the start of the region.
    var offset: Int
    var byteSize: Int


    /// The reference in `parameters`, or nil when they name no region. `tensor` names the
    /// input or output in errors. Offset and byte size without a region are refused, and
    /// a region needs its byte size, as Triton requires.
    static func parse(_ parameters: [String: JSONValue]?, tensor: String) throws(InferError) -> SharedMemoryReference? {
        guard let parameters else { return nil }
        let offset = try nonNegative(parameters[SharedMemoryParameter.offset], name: SharedMemoryParameter.offset, tensor: tensor)
        let byteSize = try nonNegative(parameters[SharedMemoryParameter.byteSize], name: SharedMemoryParameter.byteSize, tensor: tensor)
        guard let regionValue = parameters[SharedMemoryParameter.region] else {
            for (name, value) in [(SharedMemoryParameter.offset, offset), (SharedMemoryParameter.byteSize, byteSize)] where value != nil {
                throw InferError("'\(name)' can not be specified without '\(SharedMemoryParameter.region)' parameter for tensor '\(tensor)'")
            }
            return nil
        }
        guard case .string(let region) = regionValue else {
            throw InferError("invalid value type for '\(SharedMemoryParameter.region)' parameter for tensor '\(tensor)', expected a string")
        }
        guard let byteSize else {
            throw InferError("'\(SharedMemoryParameter.byteSize)' must be specified along with '\(SharedMemoryParameter.region)' parameter for tensor '\(tensor)'")
        }
        return SharedMemoryReference(region: region, offset: offset ?? 0, byteSize: byteSize)
    }

    private static func nonNegative(_ value: JSONValue?, name: String, tensor: String) throws(InferError) -> Int? {
        guard let value else { return nil }
        guard let number = size(value) else {
            throw InferError("invalid value for '\(name)' parameter for tensor '\(tensor)', expected a non-negative integer")
        }
        return number
    }

    /// A JSON offset or byte size: a non-negative integer that fits an `Int`, else nil.
    static func size(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let number) where number >= 0: return Int(number)
        case .uint(let number) where number <= UInt64(Int.max): return Int(number)
        default: return nil
        }
    }

    /// Checks the reference against the registered regions; the result keeps the region
    /// mapped for as long as it is held. `role` reads "input" or "output" in errors.
    func resolve(in registry: SharedMemoryRegistry, role: String, tensor: String, model: String) throws(InferError) -> SharedMemorySpan {
        guard let found = registry.region(named: region) else {
            throw InferError("Unable to find shared memory region: '\(region)' (named by \(role) '\(tensor)' for model '\(model)')")
        }
        guard offset <= found.byteSize, byteSize <= found.byteSize - offset else {
            throw InferError("Invalid offset + byte size for shared memory region: '\(region)': \(role) '\(tensor)' for model '\(model)' asks for \(byteSize) bytes at offset \(offset), but the region has \(found.byteSize) bytes")
        }
        return SharedMemorySpan(reference: self, mapping: found.mapping)
    }
}

/// A reference checked against a registered region for one request: holding it keeps the
/// region mapped (see ``SharedMemoryRegion/mapping``).
struct SharedMemorySpan: Sendable {
    let reference: SharedMemoryReference
    let mapping: SharedMemoryMapping
}
