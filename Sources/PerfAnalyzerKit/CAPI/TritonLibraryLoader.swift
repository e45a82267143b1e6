import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens `DIR/lib/libtritonserver.so` with dlopen and resolves its functions.
///
/// A library's own RUNPATH only serves its direct dependencies; their dependencies are found
/// through the loader's search path. Triton builds that bundle their libraries beside
/// libtritonserver (the nvidia-pytriton wheel: libcurl there needs libnghttp2 there) then load
/// only with that folder on LD_LIBRARY_PATH, which a running process cannot set for itself. So
/// the dependencies named by libtritonserver's DT_NEEDED entries, and theirs, that exist in
/// `DIR/lib` are opened from there first, deepest first; the dynamic loader then finds each by
/// its soname. Names not in `DIR/lib` (libc, libstdc++, libz) are left to the system.
enum TritonLibraryLoader {
    /// Opened libraries stay open for the life of the process (Triton's threads and backends
    /// hold on to them), so one directory is opened once.
    private static let opened = NIOLockedValueBox<[String: TritonServerAPI]>([:])

    static func libraryPath(serverDirectory: String) -> String {
        (serverDirectory as NSString).appendingPathComponent("lib/libtritonserver.so")
    }

    /// The functions of the library in `serverDirectory`, or one line saying why it cannot be used.
    static func load(serverDirectory: String) throws(TritonServerError) -> TritonServerAPI {
        let path = libraryPath(serverDirectory: serverDirectory)
        let result: Result<TritonServerAPI, TritonServerError> = opened.withLockedValue { cache in
            if let api = cache[path] { return .success(api) }
            do throws(TritonServerError) {
                let api = try open(path: path, libraryDirectory: (path as NSString).deletingLastPathComponent)
                cache[path] = api
                return .success(api)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func open(path: String, libraryDirectory: String) throws(TritonServerError) -> TritonServerAPI {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TritonServerError("--triton-server-directory: cannot load \(path): no such file (the directory should hold lib/libtritonserver.so)")
        }
        var seen = Set<String>()
        try preloadDependencies(of: path, from: libraryDirectory, seen: &seen)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw TritonServerError("--triton-server-directory: cannot load \(path): \(lastError())")
        }
        let api = try TritonServerAPI(handle: handle, path: path)
        var major: UInt32 = 0, minor: UInt32 = 0
        try api.check(api.apiVersion(&major, &minor), "\(path): asking its API version")
        guard major == TritonServerAPI.apiMajor else {
            throw TritonServerError("\(path) implements Triton's C API \(major).\(minor); this build speaks \(TritonServerAPI.apiMajor).x")
        }
        return api
    }

    /// Opens the dependencies of `library` found in `directory`, each after its own.
    private static func preloadDependencies(of library: String, from directory: String, seen: inout Set<String>) throws(TritonServerError) {
        for name in ELFNeededLibraries.read(path: library) where seen.insert(name).inserted {
            let candidate = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: candidate) else { continue }
            try preloadDependencies(of: candidate, from: directory, seen: &seen)
            guard dlopen(candidate, RTLD_NOW | RTLD_LOCAL) != nil else {
                throw TritonServerError("--triton-server-directory: cannot load \(candidate), which libtritonserver.so needs: \(lastError())")
            }
        }
    }

    private static func lastError() -> String {
        dlerror().map { String(cString: $0) }.map { $0.split(whereSeparator: \.isNewline).joined(separator: " ") } ?? "unknown dlopen error"
    }
}
