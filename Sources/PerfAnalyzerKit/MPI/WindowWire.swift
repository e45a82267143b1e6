import Histogram

/// One rank's window as bytes for the gather to rank 0 (`--mpi-split-load`): its counts and
/// sums as they are, and each HDR histogram as its non-empty buckets (value, count), so the
/// merged histogram on rank 0 is the one a single process would have recorded, not an average.
/// A window's token metrics (a decoupled model's stream) go the same way, and so, with
/// `--profile-export-file`, do the window's export entries, as the JSON rank 0 appends.
enum WindowWire {
    /// What one rank sends after a cut: its window, its CPU time, why its level ended, if it
    /// did, and its export entries of the window (comma-separated JSON objects; on rank 0
    /// after the merge, the other ranks' entries).
    struct Part: Sendable {
        var window: ClientWindow
        var cpuNs: UInt64
        var ending: String?
        var export: [UInt8] = []
    }

    static func encode(_ part: Part) -> [UInt8] {
        var writer = Writer()
        let window = part.window
        for value in [window.startNs, window.endNs, UInt64(window.requestCount), UInt64(window.inferenceCount), UInt64(window.failureCount),
                      window.latencySumNs, window.latencySquaresUs.bitPattern, window.sendSumNs, window.receiveSumNs,
                      UInt64(window.responseCount), window.lastResponseSumNs, UInt64(window.sequenceCount),
                      window.loopBusyNs, window.loopSpanNs, part.cpuNs] {
            writer.put(value)
        }
        writer.put(window.latencyNs)
        writer.put(window.schedule == nil ? 0 : 1)
        if let schedule = window.schedule {
            writer.put(UInt64(schedule.sentCount))
            writer.put(UInt64(schedule.delayedCount))
            writer.put(schedule.sendLagNs)
            writer.put(schedule.latencyFromIntendedNs)
        }
        writer.put(window.firstFailure?.failureText)
        writer.put(part.ending)
        writer.put(window.tokens == nil ? 0 : 1)
        if let tokens = window.tokens {
            for count in [tokens.requests, tokens.streamedRequests, tokens.outputTokens, tokens.countedByServer,
                          tokens.countedByResponses, tokens.goodRequests, tokens.gapsWithinOneRead] {
                writer.put(UInt64(count))
            }
            for histogram in [tokens.timeToFirstTokenNs, tokens.interTokenLatencyNs, tokens.timePerOutputTokenNs, tokens.outputTokensPerRequest] {
                writer.put(histogram)
            }
            writer.put(tokens.timeToFirstTokenFromIntendedNs == nil ? 0 : 1)
            if let fromIntended = tokens.timeToFirstTokenFromIntendedNs { writer.put(fromIntended) }
        }
        writer.put(UInt64(part.export.count))
        writer.bytes += part.export
        return writer.bytes
    }

    /// Nil when the bytes are not a window this build wrote (a rank of another version).
    static func decode(_ bytes: [UInt8]) -> Part? {
        var reader = Reader(bytes: bytes)
        guard let startNs = reader.u64(), let endNs = reader.u64() else { return nil }
        var window = ClientWindow(startNs: startNs, endNs: endNs)
        guard let requests = reader.u64(), let inferences = reader.u64(), let failures = reader.u64(),
              let latencySum = reader.u64(), let squares = reader.u64(), let sendSum = reader.u64(), let receiveSum = reader.u64(),
              let responses = reader.u64(), let lastResponseSum = reader.u64(), let sequences = reader.u64(),
              let busy = reader.u64(), let span = reader.u64(), let cpuNs = reader.u64(),
              let latencies = reader.histogram(), let scheduled = reader.u64() else { return nil }
        window.requestCount = Int(requests)
        window.inferenceCount = Int(inferences)
        window.failureCount = Int(failures)
        window.latencySumNs = latencySum
        window.latencySquaresUs = Double(bitPattern: squares)
        window.sendSumNs = sendSum
        window.receiveSumNs = receiveSum
        window.responseCount = Int(responses)
        window.lastResponseSumNs = lastResponseSum
        window.sequenceCount = Int(sequences)
        window.loopBusyNs = busy
        window.loopSpanNs = span
        window.latencyNs = latencies
        if scheduled == 1 {
            guard let sent = reader.u64(), let delayed = reader.u64(), let lag = reader.histogram(), let fromIntended = reader.histogram() else { return nil }
            var schedule = ScheduleFigures()
            schedule.sentCount = Int(sent)
            schedule.delayedCount = Int(delayed)
            schedule.sendLagNs = lag
            schedule.latencyFromIntendedNs = fromIntended
            window.schedule = schedule
        }
        guard let failure = reader.text(), let ending = reader.text(), let hasTokens = reader.u64() else { return nil }
        // The failure's kind stays on its rank; its words are what the report shows.
        window.firstFailure = failure.map { .serverError($0) }
        if hasTokens == 1 {
            guard let requests = reader.u64(), let streamed = reader.u64(), let outputTokens = reader.u64(),
                  let byServer = reader.u64(), let byResponses = reader.u64(), let good = reader.u64(), let oneRead = reader.u64(),
                  let firstToken = reader.histogram(), let interToken = reader.histogram(), let perToken = reader.histogram(),
                  let perRequest = reader.histogram(), let scheduledTokens = reader.u64() else { return nil }
            var tokens = TokenWindow()
            tokens.requests = Int(requests)
            tokens.streamedRequests = Int(streamed)
            tokens.outputTokens = Int(outputTokens)
            tokens.countedByServer = Int(byServer)
            tokens.countedByResponses = Int(byResponses)
            tokens.goodRequests = Int(good)
            tokens.gapsWithinOneRead = Int(oneRead)
            tokens.timeToFirstTokenNs = firstToken
            tokens.interTokenLatencyNs = interToken
            tokens.timePerOutputTokenNs = perToken
            tokens.outputTokensPerRequest = perRequest
            if scheduledTokens == 1 {
                guard let fromIntended = reader.histogram() else { return nil }
                tokens.timeToFirstTokenFromIntendedNs = fromIntended
            }
            window.tokens = tokens
        }
        guard let export = reader.blob() else { return nil }
        return Part(window: window, cpuNs: cpuNs, ending: ending, export: export)
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func put(_ value: UInt64) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func put(_ histogram: Histogram<UInt64>) {
            let buckets = histogram.recordedValues().map { ($0.value, $0.countAddedInThisIterationStep) }
            put(UInt64(buckets.count))
            for (value, count) in buckets {
                put(value)
                put(count)
            }
        }

        mutating func put(_ text: String?) {
            guard let text else { return put(UInt64.max) }
            let utf8 = Array(text.utf8)
            put(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u64() -> UInt64? {
            guard offset + 8 <= bytes.count else { return nil }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            offset += 8
            return value
        }

        mutating func histogram() -> Histogram<UInt64>? {
            guard let count = u64(), count <= UInt64(bytes.count) else { return nil }
            var histogram = Histogram<UInt64>.emptyLatency
            for _ in 0..<count {
                guard let value = u64(), let times = u64() else { return nil }
                _ = histogram.record(min(value, ClientWindow.maxTrackableLatencyNs), count: times)
            }
            return histogram
        }

        mutating func blob() -> [UInt8]? {
            guard let length = u64(), length <= UInt64(bytes.count - offset) else { return nil }
            defer { offset += Int(length) }
            return Array(bytes[offset..<offset + Int(length)])
        }

        /// `.some(nil)` for an absent text, nil for bytes that end too soon.
        mutating func text() -> String?? {
            guard let length = u64() else { return nil }
            if length == UInt64.max { return .some(nil) }
            guard length <= UInt64(bytes.count - offset) else { return nil }
            let text = String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)
            offset += Int(length)
            return .some(text)
        }
    }
}
