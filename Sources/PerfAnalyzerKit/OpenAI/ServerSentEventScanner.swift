#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a `text/event-stream` body into events as its bytes arrive, in whatever pieces the
/// network delivers them (an event may span reads, a read may hold several events).
///
/// The event-stream rules that matter to a load generator: lines end with LF or CRLF, a blank
/// line ends an event, `data:` lines (one optional space after the colon) make its data,
/// joined with LF when there are several, and lines starting with `:` are comments. Other
/// fields (`event:`, `id:`, `retry:`) are kept in the event's text but carry no data.
///
/// Confined to one connection; its buffers are reused, so after the first few events a
/// stream costs no allocation.
struct ServerSentEventScanner {
    /// The current event's text so far, blank line included once it ends.
    private var text: [UInt8] = []
    /// Where in `text` the line being read starts.
    private var lineStart = 0
    /// Each `data:` line's value, as ranges of `text`.
    private var dataRanges: [Range<Int>] = []
    /// Several data lines joined, for the rare event that has them.
    private var joined: [UInt8] = []

    init() {
        text.reserveCapacity(512)
        dataRanges.reserveCapacity(2)
    }

    /// Whether part of an event has arrived and not ended yet.
    var isInsideEvent: Bool { !text.isEmpty }

    /// Forgets a partial event (a new response starts).
    mutating func reset() {
        text.removeAll(keepingCapacity: true)
        dataRanges.removeAll(keepingCapacity: true)
        lineStart = 0
    }

    /// Takes `bytes` and calls `emit` with each event they complete: the event's whole text and
    /// its data. Events without a `data:` line (comments, keep-alives) are not emitted.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (_ text: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            // Copy up to and with the next LF in one go (memchr finds it).
            guard let found = memchr(base + start, 0x0A, bytes.count - start) else {
                text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                return
            }
            let newline = base.distance(to: UnsafeRawPointer(found))
            text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...newline]))
            start = newline + 1
            var lineEnd = text.count - 1
            if lineEnd > lineStart, text[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart {
                // A blank line ends the event; blank lines between events are skipped.
                if lineStart > 0 { dispatch(emit) }
                reset()
                continue
            }
            noteLine(lineStart..<lineEnd)
            lineStart = text.count
        }
    }

    private mutating func noteLine(_ line: Range<Int>) {
        // "data" then ":" then one optional space.
        guard line.count >= 5, text[line.lowerBound] == UInt8(ascii: "d"), text[line.lowerBound + 1] == UInt8(ascii: "a"),
              text[line.lowerBound + 2] == UInt8(ascii: "t"), text[line.lowerBound + 3] == UInt8(ascii: "a"),
              text[line.lowerBound + 4] == UInt8(ascii: ":") else {
            if line.count == 4, text[line.lowerBound] == UInt8(ascii: "d"), text[line.lowerBound + 3] == UInt8(ascii: "a"),
               text[line.lowerBound + 1] == UInt8(ascii: "a"), text[line.lowerBound + 2] == UInt8(ascii: "t") {
                dataRanges.append(line.upperBound..<line.upperBound)  // "data" alone: an empty data line
            }
            return
        }
        var valueStart = line.lowerBound + 5
        if valueStart < line.upperBound, text[valueStart] == 0x20 { valueStart += 1 }
        dataRanges.append(valueStart..<line.upperBound)
    }

    private mutating func dispatch(_ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        guard !dataRanges.isEmpty else { return }
        if dataRanges.count == 1 {
            let range = dataRanges[0]
            text.withUnsafeBytes { whole in emit(whole, UnsafeRawBufferPointer(rebasing: whole[range])) }
            return
        }
        joined.removeAll(keepingCapacity: true)
        for (index, range) in dataRanges.enumerated() {
            if index > 0 { joined.append(0x0A) }
            joined.append(contentsOf: text[range])
        }
        text.withUnsafeBytes { whole in joined.withUnsafeBytes { data in emit(whole, data) } }
    }
}
