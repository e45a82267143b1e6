import NIOCore
import NIOPosix
import Testing
import KServeProtocol

/// The loop's reads of one wake-up share its time; a channel's second read in it and the
/// next wake-up read the clock again.
@Suite("Arrival times by the loop's wake-up")
struct LoopWakeClockTests {
    @Test("one time per wake-up, a fresh one for a channel's second read and for the next wake-up")
    func timesByWakeUp() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let clock = LoopWakeClock(loop: loop)
        // A task of the loop stands for a wake-up: the clock's closing task runs after it.
        let first = try loop.submit { () -> (UInt64, UInt64, UInt64, UInt64, UInt64) in
            var channelA: UInt64 = 0
            var channelB: UInt64 = 0
            let a = clock.arrivalNs(channelWake: &channelA)
            let spin = ContinuousClock.now
            while ContinuousClock.now - spin < .microseconds(50) {}
            let b = clock.arrivalNs(channelWake: &channelB)
            let aAgain = clock.arrivalNs(channelWake: &channelA)
            return (a, b, aAgain, channelA, channelB)
        }.wait()
        #expect(first.1 == first.0, "a second channel's read takes the wake-up's time")
        #expect(first.2 >= first.0 + 50_000, "the same channel's second read takes a time of its own")
        #expect(first.3 == first.4)
        let next = try loop.submit { () -> UInt64 in
            var channelA = first.3
            return clock.arrivalNs(channelWake: &channelA)
        }.wait()
        #expect(next > first.2, "the next wake-up reads the clock again")
    }
}
