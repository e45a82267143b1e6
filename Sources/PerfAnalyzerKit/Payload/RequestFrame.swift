import KServeProtocol
import NIOCore

/// The wire form shared by all requests whose inputs have the same names, datatypes, shapes and
/// sizes, and differ only in their tensor bytes: fixed bytes around a gap for each input. It is
/// encoded once per such layout; every request of the layout is then its pieces and its
/// tensors' bytes copied in turn, with no encoder involved. A class: every request of a layout
/// refers to the same one.
final class RequestFrame: Sendable {
    /// One input of the requests a frame is for.
    struct Input: Sendable {
        var name: String
        var datatype: DataType
        /// The shape of one step's tensor, without the batch dimension.
        var shape: [Int64]
        /// Bytes of the input with every step of the request stacked.
        var byteCount: Int
    }

    /// `pieces[i]` goes before input i's bytes; the last piece follows the last input's.
    let pieces: [[UInt8]]
    /// Bytes of one request.
    let byteCount: Int
    /// Every field of the requests but their bytes, shared by all of them.
    let prototype: PreparedRequest

    init(pieces: [[UInt8]], inputs: [Input], prototype: PreparedRequest) {
        precondition(pieces.count == inputs.count + 1)
        self.pieces = pieces
        self.byteCount = pieces.reduce(0) { $0 + $1.count } + inputs.reduce(0) { $0 + $1.byteCount }
        self.prototype = prototype
    }

    /// Writes one request: the pieces, and between them each input's bytes, the steps of the
    /// batch stacked in order.
    func write(steps batch: [Int], of table: DataStepTable, into buffer: inout ByteBuffer) {
        let inputCount = pieces.count - 1
        for input in 0..<inputCount {
            buffer.writeBytes(pieces[input])
            for step in batch {
                let entries = table.entries(of: step)
                table.withBytes(of: entries[entries.startIndex + input]) { _ = buffer.writeBytes($0) }
            }
        }
        buffer.writeBytes(pieces[inputCount])
    }
}

/// An encoding that can give frames. Not every one can: JSON tensors sit inside the header.
protocol FramedRequestEncoding: InferRequestEncoding {
    /// The frame of requests made of `stepCount` steps whose inputs are `inputs`, or nil when this
    /// encoding makes no frames (then it makes none for any layout).
    func frame(for inputs: [RequestFrame.Input], stepCount: Int) throws -> RequestFrame?
}
