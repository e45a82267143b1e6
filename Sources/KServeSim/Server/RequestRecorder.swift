import NIOConcurrencyHelpers
import Foundation
import KServeProtocol
import NIOHTTP1

/// Appends one JSON line per inference request to a file, so tests can check what
/// a client really sent. The line is written before the request is answered: once
/// a client has its response, the line is in the file. A `write(2)` to a regular
/// file only reaches the page cache, so doing it on the event loop is acceptable
/// for this test-only feature; without `--record` none of this runs.
///
/// Requests to sequence models also get `sequence_in_flight`: how many other requests
/// of the same correlation ID the server had received and not yet answered when this
/// one arrived, so a test can see whether a client overlapped requests of a sequence.
final class RequestRecorder: Sendable {
    private struct Line: Encodable {
        struct Input: Encodable {
            var name: String
            var datatype: String
            var shape: [Int64]
            /// What the model received, wherever it came from (for shared memory: the bytes read from the region).
            var data: [JSONValue]
            /// The region the input was read from; left out of the line for inputs sent over the network.
            var sharedMemoryRegion: String?

            enum CodingKeys: String, CodingKey {
                case name, datatype, shape, data
                case sharedMemoryRegion = "shared_memory_region"
            }
        }
        var model: String
        var id: String?
        var parameters: [String: JSONValue]
        var inputs: [Input]
        /// The HTTP headers (or gRPC metadata) of the request, names lowercased (so tests can check `-H`).
        var headers: [String: String]
        /// Only for sequence models; left out of the line otherwise.
        var sequenceInFlight: Int?
        /// When the request was recorded, on the monotonic clock in ns (gaps between sends, send times).
        var timeNs: UInt64
        /// The fault mode the request met (see ``SimulatorFault``); left out for requests answered normally.
        var fault: String?

        enum CodingKeys: String, CodingKey {
            case model, id, parameters, inputs, headers, fault
            case sequenceInFlight = "sequence_in_flight"
            case timeNs = "time_ns"
        }
    }

    private let descriptor: NIOLockedValueBox<Int32>
    private let sequences = SequencesInFlight()

    init(path: String) throws(SimulatorError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SimulatorError.cannotOpenRecordFile(path: path, reason: String(cString: strerror(errno)))
        }
        descriptor = NIOLockedValueBox(fd)
    }

    /// Counts a request of a sequence model (`control` set) as in flight until the
    /// returned arrival is answered; nil for other models.
    func sequenceArrived(_ control: SequenceControl?) -> SequenceArrival? {
        control.map { sequences.arrive($0.id) }
    }

    func record(plan: InferPlan, inputs: [Tensor], headers: HTTPHeaders, sequence: SequenceArrival?,
                fault: SimulatorFault.Mode? = nil) {
        record(plan: plan, inputs: inputs,
               headers: Dictionary(headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first }),
               sequence: sequence, fault: fault)
    }

    /// `headers` already lowercased (gRPC metadata, filtered by the caller). `fault` is the
    /// configured fault when it applies to this request.
    func record(plan: InferPlan, inputs: [Tensor], headers: [String: String], sequence: SequenceArrival?,
                fault: SimulatorFault.Mode? = nil) {
        let arrivedNs = MonotonicClock.now()
        let line = Line(
            model: plan.modelName, id: plan.requestID, parameters: plan.parameters ?? [:],
            inputs: inputs.enumerated().map { slot, tensor in
                let bytes = Array(tensor.data.readableBytesView)
                let values = (try? TensorCodec.json(fromBinary: bytes, datatype: tensor.datatype)) ?? []
                let region = plan.sharedInputs.first { $0.slot == slot }?.reference.region
                return .init(name: tensor.name, datatype: tensor.datatype.rawValue, shape: tensor.shape, data: values,
                             sharedMemoryRegion: region)
            },
            headers: headers, sequenceInFlight: sequence?.othersInFlight, timeNs: arrivedNs, fault: fault?.rawValue)
        append(line)
    }

    /// Writes `line` as one JSON line (sorted keys), whole, at the end of the file.
    func append(_ line: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let bytes = try? encoder.encode(line) else { return }
        append(json: Array(bytes))
    }

    /// Writes one OpenAI request's line.
    func append(_ line: OpenAIRecordLine) {
        append(json: line.json)
    }

    /// Writes a line already in JSON, whole, at the end of the file.
    private func append(json: consuming [UInt8]) {
        var bytes = json
        bytes.append(UInt8(ascii: "\n"))
        descriptor.withLockedValue { fd in
            guard fd >= 0 else { return }
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }

    func close() {
        descriptor.withLockedValue { fd in
            if fd >= 0 { _ = Foundation.close(fd) }
            fd = -1
        }
    }
}
