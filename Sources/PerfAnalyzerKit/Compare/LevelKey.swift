/// Which load level a set of results belongs to: the export's experiment mode and value
/// (`concurrency` 4, `request_rate` 100), the same for both files being compared.
struct LevelKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    var mode: String
    var value: Double

    var description: String {
        let number = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        return "\(mode) \(number)"
    }

    static func < (left: LevelKey, right: LevelKey) -> Bool {
        (left.mode, left.value) < (right.mode, right.value)
    }
}
