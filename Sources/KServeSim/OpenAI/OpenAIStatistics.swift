import NIOCore
import Synchronization

/// What the OpenAI side counted since the server started, served at `GET /v1/sim/statistics`
/// so a test can hold a client's own counts against the server's. Plain relaxed atomics:
/// each figure is exact, and a read taken while answers are in flight may mix moments.
final class OpenAIStatistics: Sendable {
    /// Inference requests (chat, completions, embeddings) that arrived, whatever became of them.
    let requests = Atomic<Int>(0)
    /// Answered completely: every token, and the end of the answer, written.
    let succeeded = Atomic<Int>(0)
    /// Refused, faulted, or left by their client before the end.
    let failed = Atomic<Int>(0)
    /// Requests that asked for a streamed answer.
    let streamed = Atomic<Int>(0)
    let promptTokens = Atomic<Int>(0)
    /// Tokens actually written: one per content event of a stream, all of a whole answer.
    let completionTokens = Atomic<Int>(0)
    /// Streamed events that carried a token (not the role, finish, usage or error events).
    let contentEvents = Atomic<Int>(0)

    func add(_ counter: borrowing Atomic<Int>, _ amount: Int = 1) {
        counter.wrappingAdd(amount, ordering: .relaxed)
    }

    var body: ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 160)
        let figures: [(StaticString, Int)] = [
            ("{\"requests\":", requests.load(ordering: .relaxed)),
            (",\"succeeded\":", succeeded.load(ordering: .relaxed)),
            (",\"failed\":", failed.load(ordering: .relaxed)),
            (",\"streamed\":", streamed.load(ordering: .relaxed)),
            (",\"prompt_tokens\":", promptTokens.load(ordering: .relaxed)),
            (",\"completion_tokens\":", completionTokens.load(ordering: .relaxed)),
            (",\"content_events\":", contentEvents.load(ordering: .relaxed)),
        ]
        for (key, value) in figures {
            buffer.writeStaticString(key)
            buffer.writeDecimal(value)
        }
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }
}
