import Foundation

/// `--profile-export-file` with `--mpi-split-load` on a rank other than 0: this rank writes no
/// file. Its loops hand a measured window's requests here as they would to the writer; a
/// serial queue renders them into the export's entry JSON (`ExportEntryEncoder`, the writer's
/// own encoding, with this host's wall clock) as they come, and at the window's cut the
/// profiler takes the window's entries and sends them to rank 0 with the window
/// (`WindowWire.Part.export`), where the writer appends them to the window's experiment. What
/// is held is one window's entries at most.
final class ExportRelay: ExportSpool, @unchecked Sendable {
    private let encoder: ExportEntryEncoder
    private let queue = DispatchQueue(label: "swift-perf-analyzer.profile-export-relay")
    /// Touched on `queue` only: the current window's entries so far, comma-separated.
    private var pending: [UInt8] = []
    private var count = 0

    init(encoder: ExportEntryEncoder) {
        self.encoder = encoder
    }

    func submit(_ batch: ExportBatch) {
        queue.async { self.render(batch) }
    }

    /// The window's entries: those handed over during it and `rest` (what the loops still
    /// held at the cut); the relay starts empty for the next window.
    func take(adding rest: [ExportBatch]) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            queue.async {
                for batch in rest { self.render(batch) }
                let entries = self.pending
                self.pending = []
                self.count = 0
                continuation.resume(returning: entries)
            }
        }
    }

    private func render(_ batch: ExportBatch) {
        for entry in batch.entries {
            if count > 0 { pending.append(UInt8(ascii: ",")) }
            count += 1
            encoder.append(entry, of: batch, to: &pending)
        }
    }
}
