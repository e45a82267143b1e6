import NIOCore
import NIOHTTP1

extension HTTPHandler {
    /// Everything under `/v1`. The model list and the statistics answer at once; the three
    /// inference endpoints are handed to an ``OpenAIExchange``, which times their answers.
    func openAI(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer, endpoint: OpenAIEndpoint) {
        let service = core.openAI
        if endpoint == .unknown {
            return openAIRefusal(context: context, head: head, .notFound("\(head.method.rawValue) \(head.uri) is not served here"))
        }
        guard head.method.rawValue == endpoint.method else {
            return openAIRefusal(context: context, head: head,
                                 .methodNotAllowed("\(head.method.rawValue) is not allowed on \(endpoint.path); use \(endpoint.method)"),
                                 allow: endpoint.method)
        }
        switch endpoint {
        case .models:
            respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: service.modelsBody)
        case .statistics:
            respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: service.statistics.body)
        default:
            OpenAIExchange.begin(handler: self, context: context, head: head, body: body, endpoint: endpoint)
        }
    }

    /// An OpenAI error body with its status (405s say which method would do).
    func openAIRefusal(context: ChannelHandlerContext, head: HTTPRequestHead, _ error: OpenAIError, allow: String? = nil) {
        var headers = Self.jsonHeaders
        if let allow { headers.add(name: "allow", value: allow) }
        respond(context: context, head: head, status: error.status, headers: headers, body: error.json)
    }
}
