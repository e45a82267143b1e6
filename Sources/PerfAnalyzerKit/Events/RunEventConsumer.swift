/// A consumer of a run's events. The profiler emits from one task, one event at a time and
/// in order, so a consumer keeps its state without a lock.
protocol RunEventConsumer: AnyObject, Sendable {
    func consume(_ event: RunEvent)
}

/// Hands each event to every consumer, in the order they were given.
final class RunEventFanOut: Sendable {
    private let consumers: [any RunEventConsumer]

    init(_ consumers: [any RunEventConsumer]) {
        self.consumers = consumers
    }

    func emit(_ event: RunEvent) {
        for consumer in consumers { consumer.consume(event) }
    }
}
