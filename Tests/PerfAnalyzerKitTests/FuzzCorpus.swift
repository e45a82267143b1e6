import Foundation

/// The committed fuzz corpora under `Tests/Fuzz` (see its README).
enum FuzzCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// Every file of a corpus folder, in name order.
    static func files(in folder: String) -> [Data] {
        let url = directory.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.sorted().compactMap { FileManager.default.contents(atPath: url.appendingPathComponent($0).path) }
    }

    /// The lines of a corpus file, blank ones skipped.
    static func lines(of file: String) -> [String] {
        let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}
