import KServeProtocol

/// The output regions one request named, by output name, read back to validate what the
/// server wrote there. Responses carry no bytes for such outputs, only their shape.
public struct SharedOutputRegions: Sendable {
    let storages: [String: any RegionStorage]

    init(storages: [String: any RegionStorage]) {
        self.storages = storages
    }

    func contains(_ name: String) -> Bool { storages[name] != nil }

    /// The bytes of output `name`: `declaredByteSize` of them when the response gave the
    /// size, else as many as its shape and datatype take (BYTES: walking the length prefixes).
    func bytes(of name: String, datatype: DataType?, shape: [Int64], declaredByteSize: Int?) throws(ReadFailure) -> [UInt8] {
        guard let storage = storages[name] else { throw ReadFailure("output '\(name)' has no shared-memory region") }
        let count: Int
        if let declaredByteSize {
            count = declaredByteSize
        } else if let size = datatype?.elementSize {
            count = shape.reduce(1) { $0 * Int($1) } * size
        } else {
            return try bytesElements(of: name, storage: storage, elements: shape.reduce(1) { $0 * Int($1) })
        }
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
            let length = Int(UInt32(all[offset]) | UInt32(all[offset + 1]) << 8 | UInt32(all[offset + 2]) << 16 | UInt32(all[offset + 3]) << 24)
            offset += 4 + length
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
