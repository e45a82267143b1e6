import Synchronization

/// Decides which inference requests a fault applies to: every one after the first
/// `after`, counted across connections and protocols in the order they arrive.
/// A server without a fault has no schedule, so its requests pay one nil check.
final class FaultSchedule: Sendable {
    let fault: SimulatorFault
    private let arrived = Atomic<Int>(0)

    init(_ fault: SimulatorFault) {
        self.fault = fault
    }

    /// Counts one arriving inference request; the fault when it applies to that request.
    func faultForNextRequest() -> SimulatorFault? {
        arrived.wrappingAdd(1, ordering: .relaxed).newValue > fault.after ? fault : nil
    }
}
