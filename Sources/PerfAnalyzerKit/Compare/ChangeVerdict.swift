/// How one metric's change at one level is judged. From exports, a change counts when its
/// bootstrap interval excludes 0 and its estimate is beyond the threshold; from CSV files
/// (one row per level, nothing to resample) the threshold alone decides.
enum ChangeVerdict: Equatable, Sendable {
    /// Worse by more than the threshold (and significant, when tested).
    case regression
    /// Better by more than the threshold (and significant, when tested).
    case improvement
    /// Significant, but within the threshold.
    case significantWithinThreshold
    /// Within the threshold, untested (CSV).
    case withinThreshold
    /// The interval includes 0.
    case noSignificantChange
    case notJudged(String)

    /// `threshold` is a fraction (0.05); `tested` says whether an interval was asked for.
    static func judge(_ metric: CompareMetric, change: Double?, interval: ClosedRange<Double>?, tested: Bool,
                      threshold: Double) -> ChangeVerdict {
        guard let change else { return .notJudged("a figure is missing or zero") }
        let worse = metric.higherIsBetter ? change < 0 : change > 0
        let beyond = abs(change) > threshold
        guard tested else {
            return beyond ? (worse ? .regression : .improvement) : .withinThreshold
        }
        guard let interval else { return .notJudged("too few requests for an interval") }
        guard interval.lowerBound > 0 || interval.upperBound < 0 else { return .noSignificantChange }
        return beyond ? (worse ? .regression : .improvement) : .significantWithinThreshold
    }

    func text(threshold: Double) -> String {
        let limit = ComparisonTable.percent(threshold, signed: false)
        return switch self {
        case .regression: "REGRESSION"
        case .improvement: "improvement"
        case .significantWithinThreshold: "significant, within \(limit)"
        case .withinThreshold: "within \(limit)"
        case .noSignificantChange: "no significant change"
        case .notJudged(let reason): "not judged: \(reason)"
        }
    }
}
