import GRPCCore
import NIOCore

/// The shape of a slot that drives grpc-swift: while active, one Swift task on the slot's
/// event loop runs `sendWhileActive()`; the slot is idle once that task has returned.
/// Subclasses supply `sendWhileActive()`.
class GRPCTaskSlot: SlotCore, ConcurrencySlot, @unchecked Sendable {
    let connection: GRPCConnection
    let requests: [PreparedRequest]
    let metadata: Metadata
    let options: CallOptions
    let address: ServerAddress
    /// Whether responses are decoded (only to validate their outputs).
    let validates: Bool
    private let executor: EventLoopTaskExecutor
    private var running = false
    /// The task of `sendWhileActive()` while it runs; cancelled to abandon a call.
    private var task: Task<Void, Never>?
    /// Woken while the task was finishing: the feed may have work the ending task did not see.
    private var wokenWhileRunning = false

    init(placement: SlotPlacement, connection: GRPCConnection, executor: EventLoopTaskExecutor, requests: [PreparedRequest],
         metadata: Metadata, compression: GRPCCompression, address: ServerAddress) {
        precondition(!requests.isEmpty)
        self.connection = connection
        self.executor = executor
        self.requests = requests
        self.metadata = metadata
        options = .load(compression: compression)
        self.address = address
        validates = requests.contains { $0.expected != nil }
        super.init(placement: placement)
    }

    override func resume() {
        guard !running else {
            wokenWhileRunning = true
            return
        }
        running = true
        task = Task(executorPreference: executor) {
            await self.sendWhileActive()
            self.task = nil
            self.running = false
            self.becameIdle()
            if self.wokenWhileRunning {
                self.wokenWhileRunning = false
                self.resume()
            }
        }
    }

    override var isBusy: Bool { running }

    /// Cancels the call in flight (the connection is shared with the loop's other slots);
    /// the subclass ends the request with `abandonedOutcome`.
    override func abandonInFlight(_ outcome: RequestOutcome) {
        abandonedOutcome = outcome
        task?.cancel()
    }

    /// The serialized request of `ticket`, with its sequence parameters when it has them.
    func body(for ticket: SendTicket) -> ByteBuffer {
        let bytes = requests[ticket.request].bytes
        guard let mark = ticket.sequence else { return bytes }
        return SequenceParameters.grpcBody(bytes, mark: mark)
    }

    /// Sends until the slot is deactivated, its feed has nothing due or the run failed.
    func sendWhileActive() async {
        fatalError("subclasses send")
    }
}
