import Foundation
import KServeProtocol
import NIOCore
import NIOHTTP1

/// One OpenAI inference request, from its body being read to the last byte of its answer,
/// on its connection's event loop. Token k is due `ttft + k × itl` after the body was read:
/// every due time comes from that one instant, never from the previous token, so a late
/// wake-up delays a token without pushing back the ones after it. Each wake-up writes every
/// token already due, flushes once, and schedules itself for the next one (an NIO scheduled
/// task; nothing blocks or sleeps).
///
/// A streamed answer's head and (for chat) its role event go out with the first token; a whole
/// answer goes out when its last token is due. The statistics and the `--record` line are
/// settled just before the final bytes are written, so a client holding its answer can read them.
final class OpenAIExchange {
    private let handler: HTTPHandler
    private let context: ChannelHandlerContext
    private let head: HTTPRequestHead
    private let endpoint: OpenAIEndpoint
    private let body: ByteBuffer
    /// Nil when the body was refused.
    private let request: OpenAIRequest?
    /// The configured fault when it changes this answer (short-body has no OpenAI form: nil).
    private let fault: SimulatorFault.Mode?
    private let service: OpenAIService
    private let statistics: OpenAIStatistics
    private let receivedAt: UInt64
    /// The request's arrival (`HTTPHandler.arrivedAt`), for the record.
    private let arrivedAt: UInt64
    /// `receivedAt` as an NIO deadline: where every due time is counted from.
    private let start: NIODeadline
    private let encoding: OpenAIEncoding
    private let tokens: Int

    private var headWritten = false
    private var tokensSent = 0
    private var firstTokenAt: UInt64?
    private var lastTokenAt: UInt64?
    private var next: Scheduled<Void>?
    private var settled = false

    private init(handler: HTTPHandler, context: ChannelHandlerContext, head: HTTPRequestHead, endpoint: OpenAIEndpoint,
                 body: ByteBuffer, request: OpenAIRequest?, fault: SimulatorFault.Mode?) {
        self.handler = handler
        self.context = context
        self.head = head
        self.endpoint = endpoint
        self.body = body
        self.request = request
        self.fault = fault
        service = handler.core.openAI
        statistics = service.statistics
        receivedAt = handler.receivedAt
        arrivedAt = handler.arrivedAt
        start = NIODeadline.now() - .nanoseconds(Int64(MonotonicClock.now() &- receivedAt))
        encoding = OpenAIEncoding(endpoint: endpoint, serial: service.nextSerial(), created: OpenAIService.epochSeconds(),
                                  model: service.settings.modelName)
        tokens = request?.outputTokens ?? 0
    }

    /// Counts the request, reads its body, and answers it (now, or from scheduled tasks).
    static func begin(handler: HTTPHandler, context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer,
                      endpoint: OpenAIEndpoint) {
        let service = handler.core.openAI
        var fault = handler.core.faults?.faultForNextRequest()?.mode
        if fault == .shortBody { fault = nil }
        service.statistics.add(service.statistics.requests)
        let request: OpenAIRequest?
        let refusal: OpenAIError?
        do throws(OpenAIError) {
            request = try OpenAIRequest(endpoint: endpoint, body: body, settings: service.settings)
            refusal = nil
        } catch {
            request = nil
            refusal = error
        }
        if let request {
            service.statistics.add(service.statistics.promptTokens, request.promptTokens)
            if request.stream { service.statistics.add(service.statistics.streamed) }
        }
        let exchange = OpenAIExchange(handler: handler, context: context, head: head, endpoint: endpoint, body: body,
                                      request: request, fault: fault)
        exchange.answer(refusal: refusal)
    }

    private func answer(refusal: OpenAIError?) {
        switch fault {
        case .stall?:
            // Never answered; the connection stays open and silent. A failure as the server sees it.
            return settle(succeeded: false, status: nil)
        case .tooManyRequests?:
            // Turned away before the body is looked at, as a rate limiter in front of a server would.
            settle(succeeded: false, status: .tooManyRequests)
            var headers = HTTPHandler.jsonHeaders
            headers.add(name: "retry-after", value: String(SimulatorFault.retryAfterSeconds))
            return handler.respond(context: context, head: head, status: .tooManyRequests, headers: headers,
                                   body: OpenAIError.tooManyRequests.json)
        default:
            break
        }
        if let refusal {
            return sendWhole(status: refusal.status, body: refusal.json, tokens: 0)
        }
        handler.openAIInFlight = self
        wake()
    }

    /// When token `index` is due (for a whole answer: its last token; for embeddings: the first).
    private func due(_ index: Int) -> NIODeadline {
        start + .nanoseconds(service.firstTokenNanoseconds &+ Int64(index) &* service.interTokenNanoseconds)
    }

    private func wake() {
        next = nil
        guard !settled else { return }
        guard handler.isOpen else { return connectionClosed() }
        guard let request else { return }
        // garbage and wrong-shape replace a streamed answer with one body too.
        if !request.stream || fault == .garbage || fault == .wrongShape {
            let answerDue = due(max(0, tokens - 1))
            guard NIODeadline.now() >= answerDue else { return schedule(at: answerDue) }
            if endpoint == .embeddings {
                return sendWhole(status: .ok, body: encoding.embeddings(seeds: request.embeddingSeeds, prompt: request.promptTokens),
                                 tokens: 0)
            }
            return sendWhole(status: .ok, body: encoding.wholeAnswer(tokens: tokens, prompt: request.promptTokens), tokens: tokens)
        }
        let now = NIODeadline.now()
        guard now >= due(tokensSent) else { return schedule(at: due(tokensSent)) }
        if fault == .slowBytes { handler.slowWriter?.slowDownNextResponse() }
        if !headWritten { writeStreamHead() }
        while tokensSent < tokens, due(tokensSent) <= now {
            if fault == .streamError || fault == .streamCut, tokensSent == tokens / 2 {
                return breakOff()
            }
            writePart(encoding.tokenEvent(tokensSent))
            tokensSent += 1
            let at = MonotonicClock.now() &- receivedAt
            if firstTokenAt == nil { firstTokenAt = at }
            lastTokenAt = at
            statistics.add(statistics.completionTokens)
            statistics.add(statistics.contentEvents)
        }
        if tokensSent == tokens { return endStream() }
        context.flush()
        schedule(at: due(tokensSent))
    }

    private func schedule(at deadline: NIODeadline) {
        next = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.wake() }
    }

    private func writeStreamHead() {
        headWritten = true
        var headers: HTTPHeaders = ["content-type": "text/event-stream", "cache-control": "no-cache"]
        // HTTP/1.0 has no chunked encoding: the end of the answer is then the end of the connection.
        if chunked {
            headers.add(name: "transfer-encoding", value: "chunked")
            if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        } else {
            headers.add(name: "connection", value: "close")
        }
        context.write(handler.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))),
                      promise: nil)
        if endpoint == .chatCompletions { writePart(encoding.roleEvent()) }
    }

    private var chunked: Bool { head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) }

    private func writePart(_ bytes: ByteBuffer) {
        context.write(handler.wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
    }

    /// Every token sent: the finish event, the usage event when asked for, `[DONE]`.
    private func endStream() {
        writePart(encoding.finishEvent())
        if request?.includeUsage == true {
            writePart(encoding.usageEvent(prompt: request?.promptTokens ?? 0, completion: tokensSent))
        }
        settle(succeeded: true, status: .ok)
        writePart(OpenAIEncoding.done)
        endResponse()
    }

    /// stream-error and stream-cut, once half the tokens are out.
    private func breakOff() {
        settle(succeeded: false, status: .ok)
        if fault == .streamCut {
            // The half event is one whole chunk of the chunked encoding; the chunk that ends the body never comes.
            let event = encoding.tokenEvent(tokensSent)
            let half = event.getSlice(at: event.readerIndex, length: event.readableBytes / 2)!
            let context = context
            context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(half))))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        writePart(OpenAIEncoding.errorEvent(.midStream))
        writePart(OpenAIEncoding.done)
        endResponse()
    }

    private func endResponse() {
        let written = context.writeAndFlush(handler.wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive || !chunked {
            let context = context
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// An answer in one body: a whole completion, embeddings, or an error; the fault, if any,
    /// decides what actually goes out. `tokens` is how many tokens `body` carries.
    private func sendWhole(status: HTTPResponseStatus, body: ByteBuffer, tokens: Int) {
        var status = status
        var headers = HTTPHandler.jsonHeaders
        var body = body
        var tokens = tokens
        switch fault {
        case .garbage?:
            (status, headers, body, tokens) = (.ok, ["content-type": "text/plain"], ByteBuffer(string: HTTPFaultAnswer.garbageBody), 0)
        case .wrongShape?:
            (status, body, tokens) = (.ok, ByteBuffer(string: HTTPFaultAnswer.wrongShapeBody), 0)
        case .streamError?:
            (status, body, tokens) = (.internalServerError, OpenAIError.midStream.json, 0)
        case .streamCut?:
            settle(succeeded: false, status: status)
            return handler.writeHalfAndClose(context: context, head: head, status: status, headers: headers, body: body)
        default:
            break
        }
        if tokens > 0 {
            let at = MonotonicClock.now() &- receivedAt
            (firstTokenAt, lastTokenAt, tokensSent) = (at, at, tokens)
            statistics.add(statistics.completionTokens, tokens)
        }
        let faultChangedIt = fault != nil && fault != .slowBytes
        settle(succeeded: status == .ok && !faultChangedIt, status: status)
        if fault == .slowBytes { handler.slowWriter?.slowDownNextResponse() }
        handler.respond(context: context, head: head, status: status, headers: headers, body: body)
    }

    /// The client went away before the answer was over.
    func connectionClosed() {
        settle(succeeded: false, status: headWritten ? .ok : nil)
    }

    /// Counts the outcome and writes the record line, once.
    private func settle(succeeded: Bool, status: HTTPResponseStatus?) {
        guard !settled else { return }
        settled = true
        next?.cancel()
        next = nil
        if handler.openAIInFlight === self { handler.openAIInFlight = nil }
        if succeeded { statistics.add(statistics.succeeded) } else { statistics.add(statistics.failed) }
        guard let recorder = handler.core.recorder else { return }
        var model: String? = request?.model
        // A refused body: its model, if it has one, read as `OpenAIRequest` reads bodies.
        if model == nil, case .object(let fields)? = try? JSONScanner.parse(Array(body.readableBytesView)),
           case .string(let named)? = fields["model"] {
            model = named
        }
        recorder.append(OpenAIRecordLine(
            endpoint: endpoint.path, model: model, body: String(decoding: body.readableBytesView, as: UTF8.self),
            stream: request?.stream ?? false, promptTokens: request?.promptTokens, tokensSent: tokensSent,
            status: status.map { Int($0.code) }, succeeded: succeeded, firstTokenNs: firstTokenAt, lastTokenNs: lastTokenAt,
            timeNs: receivedAt, arrivedNs: arrivedAt != 0 ? arrivedAt : nil, fault: fault?.rawValue,
            headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })))
    }
}
