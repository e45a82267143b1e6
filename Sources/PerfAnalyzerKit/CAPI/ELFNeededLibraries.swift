import Foundation

/// The DT_NEEDED entries of a 64-bit little-endian ELF shared library: the sonames it asks the
/// dynamic loader for. Read so `TritonLibraryLoader` can open a library's dependencies from the
/// server directory first (see there why).
enum ELFNeededLibraries {
    /// The needed sonames in file order; empty for a file that is not such an ELF object or has
    /// no dynamic section (the loader then reports the real problem when it opens the file).
    static func read(path: String) -> [String] {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return [] }
        return data.withUnsafeBytes { parse(UnsafeRawBufferPointer($0)) }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> [String] {
        func u16(_ at: Int) -> Int? { at >= 0 && at + 2 <= bytes.count ? Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))) : nil }
        func u32(_ at: Int) -> Int? { at >= 0 && at + 4 <= bytes.count ? Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))) : nil }
        func u64(_ at: Int) -> UInt64? { at >= 0 && at + 8 <= bytes.count ? UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) : nil }
        // Magic, ELFCLASS64, ELFDATA2LSB.
        guard bytes.count > 64, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46, bytes[4] == 2, bytes[5] == 1,
              let phoff = u64(32), phoff < UInt64(bytes.count), let phentsize = u16(54), let phnum = u16(56), phentsize >= 56 else { return [] }
        struct Load { var vaddr: UInt64; var offset: UInt64; var size: UInt64 }
        var loads: [Load] = []
        var dynamic: (offset: UInt64, size: UInt64)?
        for index in 0..<phnum {
            let header = Int(phoff) + index * phentsize
            guard let type = u32(header), let offset = u64(header + 8), let vaddr = u64(header + 16), let size = u64(header + 32) else { return [] }
            if type == 1 { loads.append(Load(vaddr: vaddr, offset: offset, size: size)) }
            if type == 2 { dynamic = (offset, size) }
        }
        guard let dynamic, dynamic.offset < UInt64(bytes.count) else { return [] }
        var neededOffsets: [UInt64] = []
        var stringTable: UInt64?
        var entry = Int(dynamic.offset)
        let end = Int(min(UInt64(bytes.count), dynamic.offset + dynamic.size))
        while entry + 16 <= end, let tag = u64(entry), tag != 0, let value = u64(entry + 8) {
            if tag == 1 { neededOffsets.append(value) }  // DT_NEEDED
            if tag == 5 { stringTable = value }  // DT_STRTAB, an address
            entry += 16
        }
        // The string table's address, as a file offset through the segment that maps it.
        guard let stringTable, let segment = loads.first(where: { stringTable >= $0.vaddr && stringTable - $0.vaddr < $0.size }) else { return [] }
        let base = stringTable - segment.vaddr + segment.offset
        return neededOffsets.compactMap { offset in
            let (start, overflow) = base.addingReportingOverflow(offset)
            guard !overflow, start < UInt64(bytes.count) else { return nil }
            var stop = Int(start)
            while stop < bytes.count, bytes[stop] != 0 { stop += 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[Int(start)..<stop]), as: UTF8.self)
        }
    }
}
