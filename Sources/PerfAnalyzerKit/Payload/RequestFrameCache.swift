/// The frames of one run's requests, by layout (each input's slot, shape and stacked size).
/// Data mostly repeats one layout, so the last one is checked before anything is hashed.
struct RequestFrameCache {
    let encoding: any FramedRequestEncoding
    /// Layouts whose frames are kept besides the last; data whose every request differs (BYTES
    /// of varying lengths) would otherwise keep a frame per request.
    static let keptLayouts = 64

    private var layout: [Int] = []
    private var lastLayout: [Int] = []
    private var last: RequestFrame?
    private var kept: [[Int]: RequestFrame] = [:]

    init(encoding: any FramedRequestEncoding) {
        self.encoding = encoding
    }

    /// The frame of the request made of the steps `batch` of `table`; nil when the encoding
    /// makes no frames. The steps must hold the same inputs (`RequestPlan` checks).
    mutating func frame(for batch: [Int], of table: DataStepTable) throws -> RequestFrame? {
        let first = table.entries(of: batch[0])
        layout.removeAll(keepingCapacity: true)
        for (input, entry) in first.enumerated() {
            var byteCount = 0
            for step in batch {
                let entries = table.entries(of: step)
                byteCount += entries[entries.startIndex + input].count
            }
            layout.append(Int(entry.slot))
            layout.append(Int(entry.shape))
            layout.append(byteCount)
        }
        if let last, layout == lastLayout { return last }
        let frame: RequestFrame
        if let known = kept[layout] {
            frame = known
        } else {
            let inputs = first.enumerated().map { input, entry in
                RequestFrame.Input(name: table.names[Int(entry.slot)], datatype: table.datatypes[Int(entry.slot)],
                                   shape: table.shapes[Int(entry.shape)], byteCount: layout[3 * input + 2])
            }
            guard let made = try encoding.frame(for: inputs, stepCount: batch.count) else { return nil }
            if kept.count < Self.keptLayouts { kept[layout] = made }
            frame = made
        }
        lastLayout = layout
        last = frame
        return frame
    }
}
