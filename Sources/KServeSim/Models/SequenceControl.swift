import NIOConcurrencyHelpers
import KServeProtocol


/// A correlation id as a request may spell it: Triton accepts an unsigned number or a string.
public enum CorrelationID: Hashable, Sendable, CustomStringConvertible {
    case number(UInt64)
    case text(String)

    public var description: String {
        switch self {
        case .number(let value): return String(value)
        case .text(let value): return value
        }
    }
}

/// The request-level sequence parameters (`sequence_id`, `sequence_start`, `sequence_end`).
public struct SequenceControl: Sendable, Equatable {
    public var id: CorrelationID
    public var start: Bool
    public var end: Bool

    public init(id: CorrelationID, start: Bool, end: Bool) {
        self.id = id
        self.start = start
        self.end = end
    }

    /// Reads the parameters of a request to a sequence model; a missing or zero id is an error, as in Triton.
    static func parse(_ parameters: [String: JSONValue]?, modelName: String) throws(InferError) -> SequenceControl {
        let missing = InferError("inference request to model '\(modelName)' must specify a non-zero or non-empty correlation ID")
        let id: CorrelationID
        switch parameters?["sequence_id"] {
        case .string(let text)?:
            guard !text.isEmpty else { throw missing }
            id = .text(text)
        case let value?:
            guard let number = value.uint64Value, number != 0 else { throw missing }
            id = .number(number)
        case nil:
            throw missing
        }
        func flag(_ key: String) throws(InferError) -> Bool {
            guard let value = parameters?[key] else { return false }
            guard let bool = value.boolValue else {
                throw InferError("parameter '\(key)' of the request to model '\(modelName)' must be a boolean")
            }
            return bool
        }
        return SequenceControl(id: id, start: try flag("sequence_start"), end: try flag("sequence_end"))
    }
}

/// Per-correlation-id state of a stateful model. START resets it, END drops it,
/// and a request for an id with no live sequence is refused the way Triton refuses it.
public final class SequenceStore<State: Sendable>: Sendable {
    private let states = NIOLockedValueBox<[CorrelationID: State]>([:])
    private let initial: State

    public init(initial: State) { self.initial = initial }

    /// Runs `step` on the state of the request's sequence and returns its result.
    public func advance<Result>(
        _ control: SequenceControl?, modelName: String, _ step: (inout State) -> Result
    ) throws(InferError) -> Result {
        guard let control else {
            throw InferError("inference request to model '\(modelName)' must specify a non-zero or non-empty correlation ID")
        }
        let outcome: Result? = states.withLockedValue { states in
            var state: State
            if control.start {
                state = initial
            } else if let live = states[control.id] {
                state = live
            } else {
                return nil
            }
            let result = step(&state)
            states[control.id] = control.end ? nil : state
            return result
        }
        guard let outcome else {
            throw InferError("inference request for sequence \(control.id) to model '\(modelName)' must specify the START flag on the first request of the sequence")
        }
        return outcome
    }

    /// Number of sequences currently live (for tests and diagnostics).
    public var liveSequences: Int { states.withLockedValue { $0.count } }
}
