import NIOConcurrencyHelpers
import Testing
@testable import PerfAnalyzerKit

@Suite("Client health: whether the client limited a level")
struct ClientHealthTests {
    private let floor = TimerFloor(p50Ns: 60_000, p99Ns: 120_000)

    @Test("a quiet level is not marked")
    func quiet() {
        let health = ClientHealth(cpuUtilization: 0.2, cores: 2, stealFraction: 0.01, runQueueWaitFraction: 0.02, sendLagP90Ns: 150_000,
                                  timerFloor: floor)
        #expect(!health.isLimited)
        #expect(health.advice == nil)
        #expect(ConsoleReport.clientHealthLine(health)
            == "    Client health: ok (CPU 20% of 2 cores, waiting for a core 2.0%, steal 1.0%, send lag p90 150 usec (timer floor p99 120 usec))")
        #expect(CSVReport.clientHealthCells(health) == ["20.0", "2.0", "1.0", "no"])
    }

    @Test("saturated CPU, a slipped schedule, starved threads and steal are each marked, with what to change")
    func limits() {
        let health = ClientHealth(cpuUtilization: 0.97, cores: 1, stealFraction: 0.15, runQueueWaitFraction: 0.6, sendLagP90Ns: 5_000_000,
                                  timerFloor: floor)
        #expect(health.limits == [.cpuSaturated(utilization: 0.97, cores: 1),
                                  .scheduleSlipped(lagP90Ns: 5_000_000, floorP99Ns: 120_000), .starved(waitFraction: 0.6),
                                  .steal(fraction: 0.15)])
        #expect(CSVReport.clientHealthCells(health) == ["97.0", "60.0", "15.0", "cpu;schedule;starved;steal"])
        let advice = health.advice ?? ""
        #expect(advice.hasPrefix("The client limited this level (CPU 97% of its 1 core; sends 5000 usec late at p90"))
        #expect(advice.hasSuffix("give perf-analyzer more cores (taskset, or a machine of its own) or lower the load"))
    }

    @Test("a send lag is judged against the larger of 1 ms and four timer wake-ups")
    func lagLimit() {
        #expect(!ClientHealth(cpuUtilization: nil, cores: 2, stealFraction: nil, sendLagP90Ns: 900_000, timerFloor: floor).isLimited)
        #expect(ClientHealth(cpuUtilization: nil, cores: 2, stealFraction: nil, sendLagP90Ns: 1_100_000, timerFloor: floor).isLimited)
        let slowTimers = TimerFloor(p50Ns: 300_000, p99Ns: 500_000)
        #expect(!ClientHealth(cpuUtilization: nil, cores: 2, stealFraction: nil, sendLagP90Ns: 1_900_000, timerFloor: slowTimers).isLimited)
    }

    @Test("/proc/stat's cpu line gives total and steal ticks; guest time is not counted twice")
    func procStat() throws {
        let text = "cpu  100 5 50 800 10 1 2 30 40 0\ncpu0 50 2 25 400 5 0 1 15 20 0\nintr 123\n"
        let ticks = try #require(CPUTicks.parse(text))
        #expect(ticks == CPUTicks(total: 998, steal: 30))
        #expect(CPUTicks(total: 1998, steal: 130).stealFraction(since: ticks) == 0.1)
        #expect(CPUTicks.parse("intr 1\n") == nil)
        #expect(CPUTicks.read() != nil)
    }

    @Test("the timer floor is measured: a short sleep wakes late by something, and p99 is not below p50")
    func timerFloor() {
        let measured = TimerFloor.measure(samples: 16, sleepNs: 50_000)
        #expect(measured.p99Ns >= measured.p50Ns)
        #expect(measured.p99Ns < 1_000_000_000)
    }
}
