import ArgumentParser
import Foundation
import Testing
@testable import PerfAnalyzerKit

/// Random changes to real command lines must give options or one line naming the problem:
/// never a trap. Options that resolve are then used the way a run first uses them (the
/// address, the schedule, generated inputs), where an unchecked number would trap.
@Suite("Command line: fuzzing")
struct CommandLineFuzzTests {
    private static let seeds: [[String]] = FuzzCorpus.lines(of: "command-lines.txt").map { $0.split(separator: " ").map(String.init) }

    /// Values that have broken load generators: extremes, negatives, non-numbers, odd ranges.
    private static let values = [
        "-1", "0", "1", "-0", "2147483647", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
        "99999999999999999999", "1e308", "-1e308", "1e-300", "nan", "inf", "-inf", "0.0000001", "", " ", ":", "::", "1:2:3:4",
        "0:0:0", "1:0:0", "-1:-1", "5:1", "1e7", "1e12", "INPUT0:4294967296,4294967296", "INPUT0:-1", "INPUT0:", ":4",
        "a:b:c", "x:1:float", "localhost:99999", "[::1", "http://", "https://h:1/p?q", "/dev/null", "é", "\u{0}",
    ]

    private static let flags = [
        "-p", "-b", "-l", "-r", "-s", "-u", "-i", "-f", "-H", "--concurrency-range", "--request-rate-range", "--request-count",
        "--warmup-request-count", "--measurement-request-count", "--max-threads", "--percentile", "--shape", "--string-length",
        "--sequence-length", "--sequence-length-variation", "--sequence-id-range", "--num-of-sequences", "--request-period",
        "--periodic-concurrency-range", "--spin-before-send", "--output-shared-memory-size", "--request-parameter",
        "--connection-timeout", "--request-timeout", "--input-data", "--request-distribution", "--measurement-mode",
        "--ssl-https-verify-peer", "--ssl-https-verify-host", "--grpc-compression-algorithm", "--shared-memory",
        "--trace-level", "--trace-rate", "--trace-count", "--log-frequency", "--bls-composing-models", "-t", "-c", "--data-directory",
    ]

    @Test("the corpus itself parses")
    func corpusParses() {
        #expect(Self.seeds.count >= 10, "the corpus in Tests/Fuzz/command-lines.txt was not found")
        for seed in Self.seeds { #expect((try? PerfAnalyzerCommand.parse(seed)) != nil, "\(seed)") }
    }

    /// The parser runs a few thousand dynamic casts per command line (about 0.1 s each in a
    /// debug build), so mutated argument lists get a short budget: 4 s, and at least 10 lists
    /// however busy the machine is (the suites run side by side); the options it produces are
    /// fuzzed at volume below, by setting the parsed fields directly.
    @Test("mutated argument lists parse or are refused in one line", .timeLimit(.minutes(1)))
    func argumentMutations() {
        var random = SplitMix64(state: 0xC0_FFEE)
        let clock = ContinuousClock()
        let start = clock.now
        var tried = 0
        while tried < 10 || clock.now - start < .seconds(4) {
            var arguments = Self.seeds[Int(random.next() % UInt64(Self.seeds.count))]
            for _ in 0..<(1 + random.next() % 3) { Self.mutate(&arguments, &random) }
            Self.check(arguments: arguments)
            tried += 1
        }
    }

    @Test("tens of thousands of odd values in parsed fields never trap", .timeLimit(.minutes(1)))
    func fieldMutations() throws {
        let parsed = Self.seeds.compactMap { try? PerfAnalyzerCommand.parse($0) }
        try #require(parsed.count == Self.seeds.count)
        var random = SplitMix64(state: 0xF1E1D)
        let clock = ContinuousClock()
        let start = clock.now
        var outcomes = (resolved: 0, refused: 0)
        for iteration in 0..<200_000 {
            if iteration % 500 == 0, clock.now - start > .seconds(4) { break }
            var command = parsed[Int(random.next() % UInt64(parsed.count))]
            for _ in 0..<(1 + random.next() % 3) { Self.setOddField(&command, &random) }
            do {
                Self.use(try command.resolve())
                outcomes.resolved += 1
            } catch {
                outcomes.refused += 1
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(outcomes.resolved > 100)
        #expect(outcomes.refused > 100)
    }

    private static func check(arguments: [String]) {
        do {
            use(try PerfAnalyzerCommand.parse(arguments).resolve())
        } catch let error as OptionError {
            #expect(!error.description.contains("\n"), "\(arguments)")
        } catch {
            #expect(!PerfAnalyzerCommand.message(for: error).isEmpty)
        }
    }

    private static let oddIntegers = [-1, 0, 1, 2, 7, -2_147_483_648, 2_147_483_647, 2_147_483_648, 4_294_967_296, 1 << 40, Int.max, Int.min]
    private static let oddDoubles = [-1, 0, 1e-300, 0.5, 100, 1e308, .infinity, -.infinity, .nan]

    /// Sets one numeric or text field of a parsed command to an odd value.
    private static func setOddField(_ command: inout PerfAnalyzerCommand, _ random: inout SplitMix64) {
        func int() -> Int { random.next() % 4 == 0 ? Int(truncatingIfNeeded: random.next()) : oddIntegers[Int(random.next() % UInt64(oddIntegers.count))] }
        func double() -> Double { oddDoubles[Int(random.next() % UInt64(oddDoubles.count))] }
        func text() -> String { values[Int(random.next() % UInt64(values.count))] }
        switch random.next() % 27 {
        case 0: command.measurement.measurementInterval = int()
        case 1: command.measurement.measurementRequestCount = int()
        case 2: command.measurement.concurrencyRange = text()
        case 3: command.measurement.requestRateRange = "\(double()):\(double())"
        case 4: command.measurement.requestCount = int()
        case 5: command.measurement.warmupRequestCount = int()
        case 6: command.measurement.latencyThreshold = int()
        case 7: command.measurement.maxTrials = int()
        case 8: command.measurement.stabilityPercentage = double()
        case 9: command.measurement.numOfSequences = int()
        case 10: command.measurement.percentile = int()
        case 11: command.inputData.batchSize = int()
        case 12: command.inputData.stringLength = int()
        case 13: command.inputData.shape = ["INPUT0:\(int()),\(int())"]
        case 14: command.inputData.sequenceLength = int()
        case 15: command.inputData.sequenceLengthVariation = double()
        case 16: command.inputData.outputSharedMemorySize = int()
        case 17: command.server.url = text()
        case 18: command.server.requestTimeout = int()
        case 19: command.server.connectionTimeout = int()
        case 20: command.measurement.requestRateRange = text()
        case 21: command.trace.traceRate = int()
        case 22: command.trace.traceCount = int()
        case 23: command.trace.logFrequency = int()
        case 24: command.deprecated.concurrentRequests = int()
        case 25: command.deprecated.maxConcurrency = int()
        default: command.measurement.spinBeforeSend = int()
        }
    }

    /// What a run does first with the options, where an unchecked number would trap.
    private static func use(_ options: PerfAnalyzerOptions) {
        _ = try? ServerAddress(parsing: options.url, defaultPort: 8000)
        _ = options.measurementIntervalMs * 1_000_000
        _ = options.latencyThresholdMs * 1_000_000
        _ = PerfAnalyzerRun.drainTime(slowestAnswerNs: UInt64(options.requestTimeoutMs) * 1_000_000)
        switch options.loadMode {
        case .requestRate(let range, _):
            for rate in [range.start, range.end, range.step] where rate > 0 {
                var constant = SendSchedule(.constant(requestsPerSecond: max(rate, range.start))).makeIterator()
                var poisson = SendSchedule(.poisson(requestsPerSecond: max(rate, range.start), seed: 1)).makeIterator()
                for _ in 0..<1000 { _ = (constant.next(), poisson.next()) }
            }
        case .requestIntervals(_, let gaps):
            var offsets = SendSchedule(.intervals(nanoseconds: gaps)).makeIterator()
            for _ in 0..<1000 { _ = offsets.next() }
        case .concurrency, .fixedSchedule:
            break
        }
        // Generated inputs for a model whose shapes come from --shape, without allocating more than a few MB.
        let model = InputDataFixtures.model([InputDataFixtures.tensor("INPUT0", .int32, [-1]), InputDataFixtures.tensor("TEXT", .bytes, [2])])
        let shape = options.shapes["INPUT0"] ?? [4]
        let elements = TensorShapes.elementCount(shape) ?? .max
        if elements <= 1 << 20, options.stringLength <= 1 << 16 {
            _ = try? GeneratedInputData.makeStep(model: model, source: .zero, shapes: ["INPUT0": shape], stringLength: options.stringLength,
                                                 stringData: options.stringData)
        } else {
            #expect(throws: (any Error).self) {
                try GeneratedInputData.makeStep(model: model, source: .zero, shapes: ["INPUT0": [Int64(Int32.max), Int64(Int32.max)]],
                                                stringLength: options.stringLength)
            }
        }
    }

    private static func mutate(_ arguments: inout [String], _ random: inout SplitMix64) {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func position(_ extra: Int = 0) -> Int { arguments.isEmpty && extra == 0 ? 0 : Int(random.next() % UInt64(arguments.count + extra)) }
        switch random.next() % 5 {
        case 0 where !arguments.isEmpty:  // a value becomes an odd one
            arguments[position()] = pick(values)
        case 1 where !arguments.isEmpty:  // drop an argument
            arguments.remove(at: position())
        case 2:  // add a flag with an odd value
            let at = position(1)
            arguments.insert(contentsOf: [pick(flags), pick(values)], at: at)
        case 3 where arguments.count > 1:  // swap two arguments
            arguments.swapAt(position(), position())
        default:  // the value of an existing flag becomes odd
            if let index = arguments.indices.dropLast().filter({ arguments[$0].hasPrefix("-") }).randomElement(using: &random) {
                arguments[index + 1] = pick(values)
            }
        }
    }
}
