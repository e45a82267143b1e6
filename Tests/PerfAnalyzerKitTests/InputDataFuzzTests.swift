import Foundation
import KServeProtocol
import Testing
@testable import PerfAnalyzerKit

private typealias F = InputDataFixtures

/// Random damage to valid documents must give a result or an `InputDataError`: never a crash or a hang.
@Suite("Input data: fuzzing")
struct InputDataFuzzTests {
    private static let model = F.model(
        [F.tensor("INPUT0", .int32, [4], optional: true), F.tensor("INPUT", .fp16, [-1, -1]), F.tensor("TEXT", .bytes, [-1], optional: true),
         F.tensor("FLAG", .bool, [1], optional: true), F.tensor("WIDE", .uint64, [2], optional: true)],
        outputs: [F.tensor("OUTPUT0", .fp32, [-1]), F.tensor("OUTPUT1", .int8, [2])])

    /// The committed corpus (`Tests/Fuzz/input-data`) and the guide's example.
    private static let seeds: [String] = FuzzCorpus.files(in: "input-data").map { String(decoding: $0, as: UTF8.self) } + [InputDataGuide.shapes]

    private static let shapes: [String: [Int64]] = ["INPUT": [4, 4], "TEXT": [2]]

    private static let tokens: [String] = [
        "[", "]", "{", "}", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\udc00", "-", "0", "1e999", "-1e-999", "0.5", "1.", "01",
        "null", "true", "false", "NaN", "-Infinity", "{\"b64\": \"", "\"shape\": [", "\"content\": ", "99999999999999999999999",
        "\"data\": ", "\"validation_data\": ", "\"INPUT0\": ", "\"OUTPUT0\": ", "[[[[[[[[", "]]]]", "\u{0}", "\u{FEFF}", "é", "\n",
        "-9223372036854775809", "18446744073709551616", "4294967296", "=", "AAAA", "\"shape\": [4294967296, 4294967296]",
    ]

    @Test("the seeds themselves load")
    func seedsLoad() throws {
        #expect(Self.seeds.count >= 4, "the corpus in Tests/Fuzz/input-data was not found")
        for seed in Self.seeds {
            _ = try InputDataLoader.parseJSON(Array(seed.utf8), file: "seed.json", model: Self.model, shapes: Self.shapes)
        }
    }

    @Test("thousands of mutations never crash or hang", .timeLimit(.minutes(1)))
    func mutations() {
        var random = SplitMix64(state: 0xF022_1234)
        let clock = ContinuousClock()
        let start = clock.now
        var outcomes = (loaded: 0, refused: 0)
        var slowest = Duration.zero
        for iteration in 0..<30000 {
            // Stay within a few seconds even on a slow, shared machine.
            if iteration % 100 == 0, clock.now - start > .seconds(3) { break }
            var bytes = Array(Self.seeds[Int(random.next() % UInt64(Self.seeds.count))].utf8)
            // Mostly one mutation, so many cases stay close enough to valid to reach the deeper checks.
            let mutationCount = random.next() % 4 == 0 ? 2 + random.next() % 3 : 1
            for _ in 0..<mutationCount { Self.mutate(&bytes, &random) }
            let caseStart = clock.now
            do {
                let set = try InputDataLoader.parseJSON(bytes, file: "fuzz.json", model: Self.model, shapes: Self.shapes)
                outcomes.loaded += 1
                Self.checkConsistent(set)
            } catch {
                outcomes.refused += 1
                #expect(!error.description.contains("\n"))
                #expect(error.description.hasPrefix("fuzz.json: ") || error.description.hasPrefix("--shape"))
            }
            slowest = max(slowest, clock.now - caseStart)
        }
        // Generous: the machine may be shared; a real hang trips the suite's time limit instead.
        #expect(slowest < .seconds(5), "one case took \(slowest)")
        #expect(outcomes.loaded + outcomes.refused > 500)
        #expect(outcomes.refused > 0)
    }

    /// What loaded must be self-consistent: bytes agree with shape and datatype.
    private static func checkConsistent(_ set: InputDataSet) {
        for step in Array(set.streams.joined()) + Array((set.validation ?? []).joined()) {
            for tensor in step.tensors {
                guard let count = TensorShapes.elementCount(tensor.shape) else {
                    Issue.record(Comment(rawValue: "negative or overflowing shape \(tensor.shape)"))
                    continue
                }
                if let size = tensor.datatype.elementSize {
                    #expect(tensor.bytes.count == count * size)
                } else if case .success(let elements) = TensorShapes.countByteElements(tensor.bytes) {
                    #expect(elements == count)
                } else {
                    Issue.record(Comment(rawValue: "bad BYTES layout for \(tensor.name)"))
                }
            }
        }
    }

    private static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        func position(_ extra: Int = 0) -> Int { Int(random.next() % UInt64(bytes.count + extra)) }
        guard !bytes.isEmpty else {
            bytes = Array(tokens[Int(random.next() % UInt64(tokens.count))].utf8)
            return
        }
        switch random.next() % 6 {
        case 0:  // flip bits of one byte
            bytes[position()] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
        case 1:  // truncate
            bytes.removeSubrange(position()...)
        case 2:  // delete a range
            let from = position()
            bytes.removeSubrange(from..<min(bytes.count, from + 1 + Int(random.next() % 16)))
        case 3:  // duplicate a range
            let from = position()
            let copy = bytes[from..<min(bytes.count, from + 1 + Int(random.next() % 32))]
            bytes.insert(contentsOf: copy, at: position(1))
        case 4:  // insert a token
            bytes.insert(contentsOf: Array(tokens[Int(random.next() % UInt64(tokens.count))].utf8), at: position(1))
        default:  // replace a byte with a random one
            bytes[position()] = UInt8(truncatingIfNeeded: random.next())
        }
    }
}
