import Foundation
import NIOCore
import NIOPosix

/// Why a read of the server's metrics failed, worded as one line naming `--metrics-url`.
public struct MetricsReadFailure: Error, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// No connection: refused, unknown host, connect timed out.
        case unreachable(String)
        /// The connection broke before a whole answer came.
        case broken(String)
        /// An answer other than 200.
        case status(Int)
        /// An answer that is not Prometheus text.
        case notPrometheus(PrometheusTextError)
        /// No answer within `--connection-timeout`.
        case timeout(ms: Int)
    }

    public var endpoint: MetricsEndpoint
    public var reason: Reason

    public var description: String {
        let url = "--metrics-url \(endpoint)"
        switch reason {
        case .unreachable(let why): return "\(url): could not connect to read the server's metrics (\(why))"
        case .broken(let why): return "\(url): reading the server's metrics failed (\(why))"
        case .status(let status): return "\(url): the server answered HTTP \(status) instead of its metrics"
        case .notPrometheus(let error): return "\(url): the answer is not Prometheus text (\(error))"
        case .timeout(let ms): return "\(url): no answer within \(ms) ms (--connection-timeout)"
        }
    }

    /// What went wrong while connecting, in a few words rather than NIO's structure dump.
    static func connectProblem(_ error: any Error) -> String {
        if let failure = error as? NIOConnectionError {
            if failure.connectionErrors.isEmpty { return "the host name \(failure.host) did not resolve" }
            if let io = failure.connectionErrors.first?.error as? IOError { return String(cString: strerror(io.errnoCode)) }
            return failure.connectionErrors.first.map { "\($0.error)" } ?? "\(error)"
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "connecting timed out" }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}
