import Foundation
import Testing
@testable import PerfAnalyzerKit

@Suite("Send schedules")
struct SendScheduleTests {
    private func offsets(_ shape: SendSchedule.Shape, count: Int) -> [UInt64] {
        var iterator = SendSchedule(shape).makeIterator()
        return (0..<count).map { _ in iterator.next() }
    }

    @Test("constant: exact spacing from the first send on, no drift over a million sends")
    func constant() {
        let sends = offsets(.constant(requestsPerSecond: 5000), count: 1_000_001)
        // No burst: the first 100 sends follow the schedule like every later one.
        #expect(Array(sends.prefix(100)) == (0..<100).map { UInt64($0) * 200_000 })
        #expect(sends[1_000_000] == 200_000_000_000)
        let uneven = offsets(.constant(requestsPerSecond: 3), count: 4)
        #expect(uneven == [0, 333_333_333, 666_666_667, 1_000_000_000])
    }

    @Test("poisson: gaps with the exponential distribution's mean and coefficient of variation (within 2%)")
    func poisson() {
        let rate = 2000.0
        let sends = offsets(.poisson(requestsPerSecond: rate, seed: 42), count: 200_001)
        #expect(sends[0] == 0)
        let gaps = zip(sends.dropFirst(), sends).map { Double($0 - $1) }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gaps.count - 1)
        let expectedMean = 1e9 / rate
        #expect(abs(mean / expectedMean - 1) < 0.02, "mean gap \(mean) ns")
        #expect(abs(variance.squareRoot() / mean - 1) < 0.02, "coefficient of variation \(variance.squareRoot() / mean)")
        #expect(sends == offsets(.poisson(requestsPerSecond: rate, seed: 42), count: 200_001), "a seed gives the same schedule")
    }

    @Test("intervals: used in order and looped")
    func intervals() {
        let sends = offsets(.intervals(nanoseconds: [1000, 0, 5000]), count: 8)
        #expect(sends == [0, 1000, 1000, 6000, 7000, 7000, 12000, 13000])
    }

    @Test("an interval file: microseconds per line, blank lines skipped")
    func intervalFile() throws {
        #expect(try RequestIntervalsFile.parse("100\n\n250\r\n0\n", path: "f") == [100_000, 250_000, 0])
    }

    @Test("bad interval files: one line naming the file and line", arguments: [
        ("100\nabc\n", "--request-intervals f:2: expected a whole number of microseconds, found 'abc'"),
        ("10\n-5\n", "--request-intervals f:2: an interval cannot be negative, found '-5'"),
        ("1.5\n", "--request-intervals f:1: expected a whole number of microseconds, found '1.5'"),
        ("\n\n", "--request-intervals f: the file holds no intervals"),
        ("0\n0\n", "--request-intervals f: every interval is 0; the schedule would never advance"),
    ])
    func badIntervalFiles(text: String, message: String) {
        #expect(throws: RequestIntervalsFile.Failure(description: message)) {
            try RequestIntervalsFile.parse(text, path: "f")
        }
    }

    @Test("a missing interval file is named")
    func missingIntervalFile() {
        #expect(throws: RequestIntervalsFile.Failure(description: "--request-intervals /no/such/intervals.txt: no such file")) {
            try RequestIntervalsFile.load(path: "/no/such/intervals.txt")
        }
    }
}
