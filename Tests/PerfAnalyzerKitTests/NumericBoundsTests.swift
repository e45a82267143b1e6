import Foundation
import Testing
@testable import PerfAnalyzerKit

private func refusal(_ arguments: [String]) -> String? {
    do {
        let command = try PerfAnalyzerCommand.parse(["-m", "m"] + arguments)
        _ = try command.resolve()
        return nil
    } catch let error as OptionError {
        return error.description
    } catch {
        return PerfAnalyzerCommand.message(for: error)
    }
}

/// Numbers the parser accepts but a run could not use are refused in one line naming the flag.
@Suite("Command line: numeric bounds")
struct NumericBoundsTests {
    @Test("a negative number is read as the flag's value and refused in words about the number", arguments: [
        (["-p", "-1"], "-p -1: expected a measurement interval from 1 to 86400000 msec"),
        (["-b", "-1"], "-b -1: expected a batch size from 1 to 2147483647"),
        (["--request-count", "-1"], "--request-count -1: expected a count from 0 (none) to 4294967295"),
        (["--warmup-request-count", "-5"], "--warmup-request-count -5: expected a count from 0 to 4294967295"),
        (["--measurement-request-count", "-5"], "--measurement-request-count -5: expected a count from 1 to 4294967295"),
        (["-r", "-2"], "-r -2: expected a number of trials from 1 to 4294967295"),
        (["-l", "-1"], "-l -1: expected a latency limit from 0 (none) to 86400000 msec"),
        (["--max-threads", "-1"], "--max-threads -1: expected a thread count from 1 to 4096"),
        (["--string-length", "-3"], "--string-length -3: expected a length from 0 to 2147483647 bytes"),
        (["--num-of-sequences", "-4"], "--num-of-sequences -4: expected a number of sequences from 1 to 1000000"),
        (["--request-timeout", "-1"], "--request-timeout -1: expected a timeout from 0 (automatic) to 86400000 msec"),
        (["--connection-timeout", "0"], "--connection-timeout 0: expected a timeout from 1 to 86400000 msec"),
    ])
    func negatives(arguments: [String], expected: String) {
        #expect(refusal(arguments) == expected)
    }

    @Test("values whose arithmetic would overflow are refused before use", arguments: [
        (["-l", "99999999999999"], "-l 99999999999999: expected a latency limit from 0 (none) to 86400000 msec"),
        (["-p", "99999999999999"], "-p 99999999999999: expected a measurement interval from 1 to 86400000 msec"),
        (["--string-length", "9999999999"], "--string-length 9999999999: expected a length from 0 to 2147483647 bytes"),
        (["--sequence-length-variation", "1e308"], "--sequence-length-variation 1e+308: expected a percentage from 0 to 1000"),
        (["--shape", "INPUT0:4294967296,4294967296"], "--shape INPUT0:4294967296,4294967296: dimension 4294967296 is larger than 2147483647"),
        (["--request-rate-range", "1e-300"], "--request-rate-range 1e-300: a rate of 1e-300 requests per second is one request every 1e+300 seconds; the slowest rate is one a day (1.15741e-05)"),
    ])
    func overflowing(arguments: [String], expected: String) {
        #expect(refusal(arguments) == expected)
    }

    @Test("a concurrency above the open-file limit is refused with the limit")
    func concurrencyAboveDescriptors() throws {
        let limit = NumericBounds.connectionLimit()
        let line = try #require(refusal(["--concurrency-range", "2147483648"]))
        #expect(line.hasPrefix("--concurrency-range 2147483648: concurrency 2147483648 needs as many connections"))
        #expect(line.contains("(\(limit): its open-file limit less 64)"))
        #expect(refusal(["--concurrency-range", "\(limit)"]) == nil)
        #expect(refusal(["--concurrency-range", "1:\(limit + 1)"]) != nil)
    }

    @Test("--percentile -1 is perf_analyzer's 'average', as its scripts pass it")
    func percentileMinusOne() throws {
        let options = try PerfAnalyzerCommand.parse(["-m", "m", "--percentile", "-1"]).resolve()
        #expect(options.percentile == nil)
        #expect(refusal(["--percentile", "-2"]) == "--percentile -2: expected a value from 1 to 99")
    }

    @Test("generated inputs whose bytes overflow or exceed one request are refused")
    func generatedSize() throws {
        let model = InputDataFixtures.model([InputDataFixtures.tensor("INPUT0", .int32, [-1, -1]),
                                             InputDataFixtures.tensor("TEXT", .bytes, [-1])], outputs: [])
        #expect(throws: GeneratedInputData.MissingShape.self) {
            try GeneratedInputData.makeStep(model: model, source: .random, shapes: ["INPUT0": [65536, 65536], "TEXT": [1]], stringLength: 1)
        }
        do {
            _ = try GeneratedInputData.makeStep(model: model, source: .zero, shapes: ["INPUT0": [1, 1], "TEXT": [4]], stringLength: Int(Int32.max))
            Issue.record("a BYTES input of 4 strings of 2 GiB was generated")
        } catch {
            #expect(error.description == "input 'TEXT': shape [4] of BYTES makes 4 elements of 2147483651 bytes, more than the 2147483647 bytes one request can carry")
        }
        let step = try GeneratedInputData.makeStep(model: model, source: .zero, shapes: ["INPUT0": [2, 3], "TEXT": [2]], stringLength: 3)
        #expect(step.tensors.map(\.bytes.count) == [24, 14])
    }

    @Test("-u with a path is a prefix for HTTP and refused for gRPC")
    func urlPath() throws {
        let address = try ServerAddress(parsing: "http://example.com:9000/serving/triton/", defaultPort: 8000)
        #expect(address.host == "example.com")
        #expect(address.port == 9000)
        #expect(address.pathPrefix == "/serving/triton")
        #expect(try ServerAddress(parsing: "localhost:8000", defaultPort: 8000).pathPrefix == "")
        #expect(try ServerAddress(parsing: "localhost:8000/", defaultPort: 8000).pathPrefix == "")
        #expect(throws: ServerAddress.ParseError.self) { try ServerAddress(parsing: "localhost:8000/a?b", defaultPort: 8000) }
        let builder = InferRequestBuilder(model: InputDataFixtures.model([InputDataFixtures.tensor("I", .int32, [1])], outputs: []),
                                          host: "h", headers: [], inputFormat: .binary, outputFormat: .binary, pathPrefix: "/serving")
        #expect(builder.path.hasPrefix("/serving/v2/models/"))
    }

    @Test("interval files refuse gaps longer than a day")
    func intervalBound() {
        #expect(throws: RequestIntervalsFile.Failure(description: "--request-intervals f:2: '86400000001' microseconds is longer than a day, the longest interval")) {
            try RequestIntervalsFile.parse("10\n86400000001\n", path: "f")
        }
    }

    @Test("an open sweep's next level never overflows")
    func sweepsStopBeforeOverflow() {
        #expect(ConcurrencySearch.nextLinear(after: 5, range: ConcurrencyRange(start: 1, end: 0, step: Int.max), metThreshold: true) == nil)
        #expect(ConcurrencySearch.nextLinear(after: 5, range: ConcurrencyRange(start: 1, end: 0, step: 2), metThreshold: true) == 7)
        #expect(RateSearch.nextLinear(index: 2, range: RequestRateRange(start: 1, end: 0, step: 1e308), metThreshold: true) == nil)
    }
}
