import Foundation

/// When each request of a request-rate or custom-interval run is meant to go out, as
/// nanosecond offsets from the start of the schedule. Computed ahead and independent of
/// how fast the server answers, so a slow answer never delays the next send's intended
/// time (latency can then be measured from that time, as wrk2 does).
public struct SendSchedule: Sendable, Equatable {
    public enum Shape: Sendable, Equatable {
        /// Evenly spaced sends.
        case constant(requestsPerSecond: Double)
        /// Exponentially distributed gaps with this mean rate (a Poisson arrival process).
        case poisson(requestsPerSecond: Double, seed: UInt64)
        /// `--request-intervals`: the gaps in order, looped.
        case intervals(nanoseconds: [UInt64])
        /// `--fixed-schedule`: the k-th send at the k-th offset from the start, once through
        /// (past the end, `never`: a lane whose share is done must not take another's send).
        case offsets(nanoseconds: [UInt64])
    }

    public var shape: Shape

    public init(_ shape: Shape) {
        self.shape = shape
    }

    /// The offsets one after another, starting with 0 for the first send.
    public func makeIterator() -> Offsets {
        Offsets(shape: shape)
    }

    /// A schedule's offsets, produced on demand (a run may be long).
    public struct Offsets: Sendable {
        private let shape: Shape
        private var index: UInt64 = 0
        private var elapsedNs: Double = 0
        private var generator: SplitMix64

        init(shape: Shape) {
            self.shape = shape
            if case .poisson(_, let seed) = shape {
                generator = SplitMix64(state: seed)
            } else {
                generator = SplitMix64(state: 0)
            }
        }

        /// An offset no run reaches (about 146 years).
        static let never: UInt64 = 1 << 62

        public mutating func next() -> UInt64 {
            defer { index += 1 }
            switch shape {
            case .constant(let rate):
                // From the index, not by adding up periods: no rounding drift however long the run.
                return UInt64((Double(index) * 1e9 / rate).rounded())
            case .poisson(let rate, _):
                guard index > 0 else { return 0 }
                elapsedNs += Self.exponentialGap(rate: rate, using: &generator)
                return UInt64(elapsedNs.rounded())
            case .intervals(let gaps):
                guard index > 0, !gaps.isEmpty else { return 0 }
                elapsedNs += Double(gaps[Int((index - 1) % UInt64(gaps.count))])
                return UInt64(elapsedNs)
            case .offsets(let offsets):
                return index < UInt64(offsets.count) ? offsets[Int(index)] : Self.never
            }
        }

        /// One exponential gap in ns with mean 1/rate seconds (inverse transform of a uniform in (0, 1]).
        static func exponentialGap(rate: Double, using generator: inout SplitMix64) -> Double {
            let uniform = (Double(generator.next() >> 11) + 1) / 9_007_199_254_740_992  // (0, 1], 53 bits
            return -log(uniform) * 1e9 / rate
        }
    }
}
