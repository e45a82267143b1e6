import KServeProtocol
import Testing

/// `ByteScan` finds what a byte-by-byte search finds, for every start and end of a range,
/// whatever bytes surround the target (the word tricks misfire most near 0x00, 0x80 and 0xFF).
@Suite("Searching bytes a word at a time")
struct ByteScanTests {
    private static func naiveFirst(_ bytes: [UInt8], _ target: UInt8, _ start: Int, _ end: Int) -> Int? {
        (start..<end).first { bytes[$0] == target }
    }

    @Test("the first match in every range of random buffers")
    func matchesNaiveSearch() {
        var generator = SystemRandomNumberGenerator()
        // Few distinct values, so targets occur often and sit beside the awkward bytes.
        let alphabet: [UInt8] = [0x00, 0x01, 0x0A, 0x1F, 0x20, 0x22, 0x3A, 0x5C, 0x7F, 0x80, 0x9F, 0xA0, 0xFE, 0xFF]
        var mismatches: [String] = []
        for _ in 0..<100 {
            let count = Int.random(in: 0...40, using: &generator)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                for start in 0...count {
                    for end in start...count {
                        for target in alphabet where ByteScan.first(target, in: base, from: start, to: end) != Self.naiveFirst(bytes, target, start, end) {
                            mismatches.append("\(target) in \(bytes)[\(start)..<\(end)]")
                        }
                        let either = (start..<end).first { bytes[$0] == 0x22 || bytes[$0] == 0x5C } ?? end
                        if ByteScan.first(0x22, or: 0x5C, in: base, from: start, to: end) != either {
                            mismatches.append("quote or backslash in \(bytes)[\(start)..<\(end)]")
                        }
                        let stop = (start..<end).first { bytes[$0] == 0x22 || bytes[$0] == 0x5C || bytes[$0] < 0x20 } ?? end
                        if ByteScan.firstStringStop(in: base, from: start, to: end) != stop {
                            mismatches.append("string stop in \(bytes)[\(start)..<\(end)]")
                        }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
