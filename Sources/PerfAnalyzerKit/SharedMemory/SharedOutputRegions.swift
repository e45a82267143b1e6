import KServeProtocol

/// The output regions one request named, by output name, read back to validate what the
/// server wrote there. Responses carry no bytes for such outputs, only their shape.
public struct SharedOutputRegions: Sendable {
    let storages: [String: any RegionStorage]

    init(storages: [String: any RegionStorage]) {
        self.storages = storages
    }

    func contains(_ name: String) -> Bool { storages[name] != nil }

    /// The bytes of output `name`: as many as its shape and datatype take (BYTES: walking the
    /// length prefixes). Triton's response gives no byte size for an output in shared memory.
    func bytes(of name: String, datatype: DataType?, shape: [Int64]) throws(ReadFailure) -> [UInt8] {
        guard let storage = storages[name] else { throw ReadFailure("output '\(name)' has no shared-memory region") }
        let elements = shape.reduce(1) { $0 * Int($1) }
        guard let size = datatype?.elementSize else {
            return try bytesElements(of: name, storage: storage, elements: elements)
        }
        let count = elements * size
        guard count >= 0, count <= storage.byteSize else {
            throw ReadFailure("output '\(name)' takes \(count) bytes but its shared-memory region holds \(storage.byteSize)")
        }
        do {
            return try storage.read(at: 0, count: count)
        } catch {
            throw ReadFailure("output '\(name)': reading its shared-memory region failed: \(error)")
        }
    }

    /// BYTES outputs: `elements` length-prefixed elements from the start of the region.
    private func bytesElements(of name: String, storage: any RegionStorage, elements: Int) throws(ReadFailure) -> [UInt8] {
        let all: [UInt8]
        do {
            all = try storage.read(at: 0, count: storage.byteSize)
        } catch {
            throw ReadFailure("output '\(name)': reading its shared-memory region failed: \(error)")
        }
        var offset = 0
        for element in 0..<elements {
            guard offset + 4 <= all.count else {
                throw ReadFailure("output '\(name)': BYTES element \(element) of \(elements) runs past the \(all.count)-byte shared-memory region")
            }
            offset += 4 + TensorCodec.byteElementLength(all, at: offset)
        }
        guard offset <= all.count else {
            throw ReadFailure("output '\(name)': its \(elements) BYTES elements run past the \(all.count)-byte shared-memory region")
        }
        return Array(all[..<offset])
    }

    struct ReadFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
