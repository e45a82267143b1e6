import Foundation
import Testing
@testable import PerfAnalyzerKit

/// Finds out once whether this machine can really use CUDA: a runtime that loads and sees a GPU.
enum CUDAGPUProbe {
    /// The directory holding libcudart.so.12, from scripts/install-cuda-runtime.sh (scripts/test.sh exports it).
    static var runtimeDirectory: String? {
        guard let directory = ProcessInfo.processInfo.environment["CUDA_RUNTIME_DIR"], !directory.isEmpty else {
            return nil
        }
        return directory
    }

    /// The installed runtime as a dlopen name list.
    static var installedRuntime: [String]? {
        runtimeDirectory.map { ["\($0)/libcudart.so.12"] }
    }

    /// A runtime with a GPU behind it: the system's (default names) first, then the installed one.
    static func load() -> CUDARuntime? {
        if let runtime = try? CUDARuntime.load() { return runtime }
        if let names = installedRuntime, let runtime = try? CUDARuntime.load(libraryNames: names) { return runtime }
        return nil
    }

    static let isPresent: Bool = load() != nil
}

@Suite("CUDA runtime loaded at run time")
struct CUDARuntimeTests {
    @Test("a library that cannot be opened gives one line naming every name tried")
    func missingLibrary() {
        let names = ["libcudart-missing-for-test.so"]
        let failure = #expect(throws: CUDAFailure.self) { try CUDARuntime.load(libraryNames: names) }
        guard let text = failure?.description else { return }
        #expect(text.hasPrefix("--shared-memory cuda: no CUDA runtime found (tried libcudart-missing-for-test.so): "))
        // The loader's own reason follows, naming the file.
        #expect(text.contains("libcudart-missing-for-test.so:"))
        #expect(!text.contains("\n"))
    }

    @Test("every name is listed, the last loader error is the one shown")
    func missingLibraries() {
        let names = ["libcudart-missing-a.so", "libcudart-missing-b.so"]
        let failure = #expect(throws: CUDAFailure.self) { try CUDARuntime.load(libraryNames: names) }
        guard let text = failure?.description else { return }
        #expect(text.hasPrefix("--shared-memory cuda: no CUDA runtime found (tried libcudart-missing-a.so, libcudart-missing-b.so): "))
        #expect(text.contains("libcudart-missing-b.so:"))
        #expect(!text.contains("\n"))
    }

    @Test("a library without the CUDA symbols is named with the first missing symbol")
    func libraryWithoutSymbols() {
        let failure = #expect(throws: CUDAFailure.self) { try CUDARuntime.load(libraryNames: ["libc.so.6"]) }
        #expect(failure?.description == "--shared-memory cuda: libc.so.6 has no symbol cudaGetDeviceCount")
    }

    @Test("copies outside the buffer are refused before CUDA is called")
    func rangeChecks() throws {
        let buffer = CUDADeviceBuffer(address: 0x1000, byteSize: 100)
        try buffer.checkRange(offset: 0, count: 100, copying: "to")
        try buffer.checkRange(offset: 100, count: 0, copying: "from")
        try buffer.checkRange(offset: 40, count: 60, copying: "to")
        let tooLong = #expect(throws: CUDAFailure.self) { try buffer.checkRange(offset: 1, count: 100, copying: "to") }
        #expect(tooLong?.description
            == "--shared-memory cuda: cannot copy 100 bytes to offset 1 of a 100-byte GPU buffer: only 99 bytes fit from there")
        let pastEnd = #expect(throws: CUDAFailure.self) { try buffer.checkRange(offset: 101, count: 0, copying: "from") }
        #expect(pastEnd?.description
            == "--shared-memory cuda: cannot copy 0 bytes from offset 101 of a 100-byte GPU buffer: the offset is past its end")
        #expect(throws: CUDAFailure.self) { try buffer.checkRange(offset: -1, count: 1, copying: "to") }
        #expect(throws: CUDAFailure.self) { try buffer.checkRange(offset: 0, count: -1, copying: "to") }
        // Sums that would overflow Int are refused, not trapped on.
        #expect(throws: CUDAFailure.self) { try buffer.checkRange(offset: 50, count: .max, copying: "to") }
        #expect(throws: CUDAFailure.self) { try buffer.checkRange(offset: .max, count: .max, copying: "from") }
    }

    @Test("the real CUDA runtime loads without a GPU and says it found none (with a GPU: it loads)")
    func realRuntime() throws {
        let names = try #require(
            CUDAGPUProbe.installedRuntime,
            "CUDA_RUNTIME_DIR is not set: run scripts/install-cuda-runtime.sh and set CUDA_RUNTIME_DIR to the directory it prints")
        if CUDAGPUProbe.isPresent {
            let runtime = try CUDARuntime.load(libraryNames: names)
            #expect(runtime.deviceCount > 0)
            return
        }
        let failure = #expect(throws: CUDAFailure.self) { try CUDARuntime.load(libraryNames: names) }
        guard let text = failure?.description else { return }
        #expect(text.hasPrefix("--shared-memory cuda: the CUDA runtime ("), "\(text)")
        #expect(text.contains("found no GPU"), "\(text)")
        #expect(text.contains("(cudaError ") || text.hasSuffix("(0 devices)"), "\(text)")
        #expect(!text.contains("\n"))
        // A failed load unloads the library again; loading twice must behave the same.
        let again = #expect(throws: CUDAFailure.self) { try CUDARuntime.load(libraryNames: names) }
        #expect(again?.description == text)
    }

    @Test("on a GPU: allocate 1 MiB, copy in and back at an offset, get an IPC handle, free",
          .enabled(if: CUDAGPUProbe.isPresent, "no GPU on this machine: not run"))
    func gpuRoundTrip() throws {
        let runtime = try #require(CUDAGPUProbe.load())
        let size = 1 << 20
        let buffer = try runtime.allocate(byteSize: size)
        defer { runtime.free(buffer) }
        #expect(buffer.byteSize == size)
        #expect(buffer.address != 0)

        let pattern = (0..<4099).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let offset = 12_345
        try pattern.withUnsafeBytes { bytes in
            try runtime.copyToDevice(bytes, buffer: buffer, offset: offset)
        }
        let back = try runtime.copyFromDevice(buffer: buffer, offset: offset, count: pattern.count)
        #expect(back == pattern)
        // The bytes land at the offset, not at the start.
        let shifted = try runtime.copyFromDevice(buffer: buffer, offset: offset + 1, count: 16)
        #expect(shifted == Array(pattern[1...16]))

        let handle = try runtime.ipcHandle(for: buffer)
        #expect(handle.count == 64)
        #expect(handle.contains { $0 != 0 })

        #expect(throws: CUDAFailure.self) {
            try runtime.copyFromDevice(buffer: buffer, offset: size - 10, count: 11)
        }
        #expect(throws: CUDAFailure.self) { try runtime.allocate(byteSize: 0) }
        let badDevice = #expect(throws: CUDAFailure.self) {
            try CUDARuntime.load(device: runtime.deviceCount, libraryNames: [runtime.library])
        }
        #expect(badDevice?.description.hasPrefix("--shared-memory cuda: cannot use GPU \(runtime.deviceCount) of ") == true)
    }
}
