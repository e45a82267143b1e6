import Foundation
import KServeProtocol

/// The JSON of the export's request entries (`{"timestamp":…,"request_inputs":…,
/// "response_timestamps":[…],"response_outputs":[…]}`), one per exported request. The writer
/// appends them to its file; with `--mpi-split-load` a rank other than 0 renders its own with
/// it and sends the bytes to rank 0 (`ExportRelay`), whose writer appends them as they are.
struct ExportEntryEncoder: Sendable {
    /// `request_inputs` of each prepared request, encoded once.
    let requestInputs: [[UInt8]]
    let wire: ExportResponseOutputs.Wire
    /// Wall-clock ns minus monotonic ns, taken once: the export's times are this host's epoch times.
    let wallOffsetNs: Int64

    init(requestInputs: [[UInt8]], wire: ExportResponseOutputs.Wire) {
        self.requestInputs = requestInputs
        self.wire = wire
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        let monotonic = MonotonicClock.now()
        wallOffsetNs = Int64(wall.tv_sec) * 1_000_000_000 + Int64(wall.tv_nsec) - Int64(monotonic)
    }

    /// A monotonic time as ns since the Unix epoch.
    func epoch(_ monotonicNs: UInt64) -> UInt64 {
        UInt64(max(0, Int64(monotonicNs) + wallOffsetNs))
    }

    /// Appends one entry of `batch` to `out` (no separator). Written straight into `out`: a
    /// streamed answer has an entry with a time and an object per token.
    func append(_ entry: ExportBatch.Entry, of batch: ExportBatch, to out: inout [UInt8]) {
        out += Array("{\"timestamp\":".utf8)
        JSONText.appendDecimal(epoch(entry.startNs), to: &out)
        if entry.sequenceID != 0 {
            out += Array(",\"sequence_id\":".utf8)
            JSONText.appendDecimal(entry.sequenceID, to: &out)
        }
        out += Array(",\"request_inputs\":".utf8)
        out += entry.inputs ?? requestInputs[entry.request]
        out += Array(",\"response_timestamps\":[".utf8)
        let responses = entry.firstResponse..<(entry.firstResponse + entry.responseCount)
        for index in responses {
            if index > responses.lowerBound { out.append(UInt8(ascii: ",")) }
            JSONText.appendDecimal(epoch(batch.responseTimesNs[index]), to: &out)
        }
        out += Array("],\"response_outputs\":[".utf8)
        for index in responses {
            if index > responses.lowerBound { out.append(UInt8(ascii: ",")) }
            if index < batch.bodies.count {
                ExportResponseOutputs.append(batch.bodies[index], wire: wire, to: &out)
            } else {
                out += Array("{}".utf8)
            }
        }
        out += Array("]}".utf8)
    }
}
