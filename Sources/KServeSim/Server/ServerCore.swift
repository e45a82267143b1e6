import Foundation
import KServeProtocol
import NIOCore

/// State shared by every connection of one simulator: the models, their
/// statistics, the executor, the optional recorder, the registered shared-memory
/// regions, and the answers that never change (server metadata, model metadata
/// and config), encoded once at start.
final class ServerCore: Sendable {
    static let serverName = "kserve-sim"
    static let serverVersion = ReleaseVersion.current
    static let extensions = ["binary_tensor_data", "statistics", "model_configuration", "sequence", "system_shared_memory"]

    let catalog: ModelCatalog
    let statistics: StatisticsBook
    let executor: ModelExecutor
    let recorder: RequestRecorder?
    /// Which inference requests the configured fault applies to; nil without one (and for silent, which never gets a request).
    let faults: FaultSchedule?
    let sharedMemory: SharedMemoryRegistry
    /// The OpenAI-compatible endpoints under `/v1`.
    let openAI: OpenAIService
    /// False when configured without the system shared-memory extension: its endpoints are unknown.
    let offersSystemSharedMemory: Bool
    let serverMetadataBody: ByteBuffer
    let metadataBodies: [ByteBuffer]
    let configBodies: [ByteBuffer]
    /// What each loop keeps for itself: its plan cache, and the clock of when its requests'
    /// bytes arrived (`ArrivalStamp`).
    private let perLoop: [(loop: EventLoop, cache: NIOLoopBoundBox<PlanCache>, clock: LoopWakeClock)]

    init(catalog: ModelCatalog, delayMicroseconds: Int, recorder: RequestRecorder?, loops: [EventLoop],
         systemSharedMemory: SimulatorConfiguration.SystemSharedMemorySupport = .offered, fault: SimulatorFault? = nil,
         openAI: OpenAISettings = OpenAISettings()) {
        self.catalog = catalog
        self.openAI = OpenAIService(settings: openAI)
        self.faults = fault.map(FaultSchedule.init)
        self.statistics = StatisticsBook(modelNames: catalog.models.map(\.name))
        self.executor = ModelExecutor(catalog: catalog, statistics: statistics, delayMicroseconds: delayMicroseconds)
        self.recorder = recorder
        sharedMemory = SharedMemoryRegistry(refusesRegistration: systemSharedMemory == .refusing)
        offersSystemSharedMemory = systemSharedMemory != .absent
        let extensions = offersSystemSharedMemory ? Self.extensions : Self.extensions.filter { $0 != "system_shared_memory" }
        serverMetadataBody = Self.encode(ServerMetadata(name: Self.serverName, version: Self.serverVersion,
                                                        extensions: extensions))
        metadataBodies = catalog.models.map { Self.encode($0.metadata) }
        configBodies = catalog.models.map { Self.encode($0.config) }
        perLoop = loops.map { loop in
            (loop, NIOLoopBoundBox.makeBoxSendingValue(PlanCache(), as: PlanCache.self, eventLoop: loop),
             LoopWakeClock(loop: loop))
        }
    }

    /// The plan cache of `loop`; call on that loop only. For a loop not ours (which our
    /// bootstrap never gives), a private cache, which still works.
    func planCache(for loop: EventLoop) -> PlanCache {
        perLoop.first(where: { $0.loop === loop })?.cache.value ?? PlanCache()
    }

    /// The wake-up clock of `loop`; call on that loop only. For a loop not ours, a private clock.
    func wakeClock(for loop: EventLoop) -> LoopWakeClock {
        perLoop.first(where: { $0.loop === loop })?.clock ?? LoopWakeClock(loop: loop)
    }

    func statisticsBody(models: [Int]) -> ByteBuffer {
        Self.encode(StatisticsResponse(modelStats: models.map(statistics.snapshot(model:))))
    }

    static func errorBody(_ message: String) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: message.utf8.count + 16)
        buffer.writeStaticString("{\"error\":")
        buffer.writeJSONString(message)
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    static func encode<Value: Encodable>(_ value: Value) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Our wire types always encode; a failure here would be a programming error.
        return ByteBuffer(bytes: try! encoder.encode(value))
    }
}
