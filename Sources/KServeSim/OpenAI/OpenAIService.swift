import KServeProtocol
import NIOCore
import Synchronization

/// What every connection's OpenAI answers share: the settings, the counts, the serial
/// numbers of answer ids, and the model list (the same bytes for every read).
final class OpenAIService: Sendable {
    let settings: OpenAISettings
    let statistics = OpenAIStatistics()
    let modelsBody: ByteBuffer
    let firstTokenNanoseconds: Int64
    let interTokenNanoseconds: Int64
    private let serials = Atomic<Int>(0)

    init(settings: OpenAISettings) {
        self.settings = settings
        firstTokenNanoseconds = settings.timeToFirstToken.wholeNanoseconds
        interTokenNanoseconds = settings.interTokenLatency.wholeNanoseconds
        var body = ByteBufferAllocator().buffer(capacity: 128)
        body.writeStaticString(#"{"object":"list","data":[{"id":"#)
        body.writeJSONString(settings.modelName)
        body.writeStaticString(#","object":"model","created":"#)
        body.writeDecimal(Self.epochSeconds())
        body.writeStaticString(#","owned_by":"kserve-sim"}]}"#)
        modelsBody = body
    }

    /// 1, 2, 3, ... across the server: the number in an answer's id.
    func nextSerial() -> Int {
        serials.wrappingAdd(1, ordering: .relaxed).newValue
    }

    static func epochSeconds() -> Int {
        Int(MonotonicClock.epochMilliseconds() / 1000)
    }
}
