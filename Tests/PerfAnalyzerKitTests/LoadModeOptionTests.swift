import Foundation
import Testing
@testable import PerfAnalyzerKit

private func resolve(_ arguments: [String]) throws -> PerfAnalyzerOptions {
    try PerfAnalyzerCommand.parse(["-m", "m"] + arguments).resolve()
}

/// The one line a bad command line gets.
private func refusal(_ arguments: [String]) -> String? {
    do {
        _ = try resolve(arguments)
        return nil
    } catch let error as OptionError {
        return error.description
    } catch {
        return "\(error)"
    }
}

private func intervalsFile(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("intervals-\(UUID().uuidString).txt").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("Load modes and sequence flags on the command line")
struct LoadModeOptionTests {
    @Test("request rate: floating-point range, distribution, 4 threads by default")
    func requestRate() throws {
        let options = try resolve(["--request-rate-range", "10.5:40:9.5", "--request-distribution", "poisson"])
        #expect(options.loadMode == .requestRate(RequestRateRange(start: 10.5, end: 40, step: 9.5), .poisson))
        #expect(options.maxThreads == 4)
        #expect(try resolve(["--request-rate-range", "100"]).loadMode == .requestRate(RequestRateRange(start: 100, end: 100, step: 1), .constant))
        #expect(try resolve(["--request-rate-range", "100", "--max-threads", "2"]).maxThreads == 2)
        #expect(try resolve([]).maxThreads == 16)
        #expect(try resolve(["--request-rate-range", "5:0:5", "-l", "10"]).loadMode == .requestRate(RequestRateRange(start: 5, end: 0, step: 5), .constant))
    }

    @Test("--spin-before-send: microseconds in scheduled modes, 0 (sleep until due) by default")
    func spinBeforeSend() throws {
        #expect(try resolve(["--request-rate-range", "100"]).spinBeforeSendUs == 0)
        #expect(try resolve(["--request-rate-range", "100", "--spin-before-send", "80"]).spinBeforeSendUs == 80)
        let intervals = try intervalsFile("1000\n")
        #expect(try resolve(["--request-intervals", intervals, "--spin-before-send", "5"]).spinBeforeSendUs == 5)
    }

    @Test("the load threads follow the CPU affinity mask", arguments: [
        ("Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n", 2),
        ("Cpus_allowed:\t1\n", 1),
        ("Cpus_allowed:\tffffffff,00000000,0000000f\n", 36),
    ])
    func affinity(status: String, cores: Int) {
        #expect(UsableCores.affinityCount(status: status) == cores)
    }

    @Test("an unreadable affinity line is ignored")
    func affinityUnreadable() {
        #expect(UsableCores.affinityCount(status: "Name:\tx\n") == nil)
        #expect(UsableCores.affinityCount(status: "Cpus_allowed:\tzz\n") == nil)
    }

    @Test("bad request-rate command lines get one line naming the flag", arguments: [
        (["--request-rate-range", "0"], "--request-rate-range 0: the start rate must be > 0 requests per second"),
        (["--request-rate-range", "ten"], "--request-rate-range ten: 'ten' is not a number >= 0"),
        (["--request-rate-range", "10:5"], "--request-rate-range 10:5: the end (5) is below the start (10); use end 0 to grow until -l is reached"),
        (["--request-rate-range", "10:20:0"], "--request-rate-range 10:20:0: the step must be > 0"),
        (["--request-rate-range", "10:0"], "--request-rate-range 10:0: an open end (0) needs a latency limit (-l) to stop at"),
        (["--request-rate-range", "10", "--concurrency-range", "2"], "--request-rate-range and --concurrency-range choose different load modes; give one of them"),
        (["--request-rate-range", "10:20", "--request-count", "5"], "--request-count measures one level; give a single --request-rate-range value"),
        (["--num-of-sequences", "0"], "--num-of-sequences 0: expected a number of sequences from 1 to 1000000"),
        (["--sequence-length", "0"], "--sequence-length 0: expected a length from 1 to 4294967295 requests"),
        (["--sequence-id-range", "0:10"], "--sequence-id-range 0:10: the start '0' is not a whole number > 0 (0 is not a valid correlation ID)"),
        (["--sequence-id-range", "5:5"], "--sequence-id-range 5:5: the end (5, not included) must be above the start (5)"),
        (["--sequence-id-range", "5:x"], "--sequence-id-range 5:x: the end 'x' is not a whole number"),
        (["--sequence-length-variation=-1"], "--sequence-length-variation -1.0: expected a percentage from 0 to 1000"),
        (["--spin-before-send", "50"], "--spin-before-send: only with --request-rate-range or --request-intervals (sends in concurrency mode follow responses, not a schedule)"),
        (["--request-rate-range", "10", "--spin-before-send=-1"], "--spin-before-send -1: expected microseconds from 0 to 1000000"),
        (["--request-rate-range", "10", "--spin-before-send", "2000000"], "--spin-before-send 2000000: expected microseconds from 0 to 1000000"),
    ])
    func refusals(arguments: [String], message: String) {
        #expect(refusal(arguments) == message)
    }

    @Test("request intervals: read up front; cannot be combined with the ranges; errors name file and line")
    func intervals() throws {
        let good = try intervalsFile("2000\n4000\n\n6000\n")
        defer { try? FileManager.default.removeItem(atPath: good) }
        #expect(try resolve(["--request-intervals", good]).loadMode == .requestIntervals(path: good, gapsNs: [2_000_000, 4_000_000, 6_000_000]))
        #expect(refusal(["--request-intervals", good, "--concurrency-range", "2"])
            == "--request-intervals sets the send times itself; it cannot be combined with --concurrency-range or --request-rate-range")
        #expect(refusal(["--request-intervals", good, "--request-rate-range", "2"])
            == "--request-intervals sets the send times itself; it cannot be combined with --concurrency-range or --request-rate-range")
        #expect(refusal(["--request-intervals", "/nonexistent/intervals.txt"]) == "--request-intervals /nonexistent/intervals.txt: no such file")
        let bad = try intervalsFile("100\nfast\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(refusal(["--request-intervals", bad])?.hasPrefix("--request-intervals \(bad):2:") == true)
        // perf_analyzer reports an interval file's rate as a whole number.
        #expect(RequestIntervalsFile.averageRate(gapsNs: [2_000_000, 4_000_000, 6_000_000]) == 250)
        #expect(RequestIntervalsFile.averageRate(gapsNs: [3_000_000, 3_000_000, 3_000_000]) == 333)
    }

    @Test("sequence flags land in the options")
    func sequences() throws {
        let options = try resolve(["--num-of-sequences", "6", "--sequence-length", "8", "--sequence-length-variation", "0",
                                   "--sequence-id-range", "100:200", "--serial-sequences"])
        #expect(options.sequences.concurrentSequences == 6)
        #expect(options.sequences.length == 8)
        #expect(options.sequences.lengthVariationPercent == 0)
        #expect(options.sequences.idStart == 100 && options.sequences.idEnd == 200)
        #expect(options.sequences.idCount == 100)
        #expect(options.sequences.serial)
        let defaults = try resolve([]).sequences
        #expect(defaults.concurrentSequences == 4 && defaults.length == nil && defaults.lengthVariationPercent == 20)
        #expect(defaults.idStart == 1 && defaults.idEnd == nil)
        #expect(try resolve(["--sequence-id-range", "7"]).sequences.idEnd == nil)
    }

    @Test("rate sweeps: linear steps from the index, binary search, open end")
    func rateSweeps() async {
        let range = RequestRateRange(start: 0.1, end: 0.3, step: 0.1)
        var levels: [Double] = [range.start]
        var index = 0
        while let next = RateSearch.nextLinear(index: index + 1, range: range, metThreshold: true) {
            index += 1
            levels.append(next)
        }
        #expect(levels.count == 3)
        #expect(abs(levels[2] - 0.3) < 1e-12)
        #expect(RateSearch.nextLinear(index: 1, range: range, metThreshold: false) == nil)
        #expect(RateSearch.nextLinear(index: 50, range: RequestRateRange(start: 10, end: 0, step: 10), metThreshold: true) == 510)

        var visited: [Double] = []
        await RateSearch.binary(range: RequestRateRange(start: 100, end: 900, step: 100)) { rate in
            visited.append(rate)
            return rate <= 450
        }
        #expect(visited == [100, 900, 500, 300, 400])
    }
}
