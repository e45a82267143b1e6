import KServeProtocol
import NIOCore
import NIOHTTP1

extension HTTPHandler {
    /// One entry of `GET /v2/systemsharedmemory[/region/NAME]/status`.
    struct SystemRegionStatus: Encodable {
        var name: String
        var key: String
        var offset: Int
        var byte_size: Int
    }

    /// `/v2/{system,cuda}sharedmemory/...`: register, unregister and status. Errors answer
    /// 400 with `{"error": ...}`, as Triton's do; successful register/unregister answer an empty 200.
    func sharedMemory(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer,
                      kind: Route.SharedMemoryKind, region: String?, action: Route.SharedMemoryAction) {
        func ok(_ answer: ByteBuffer? = nil) {
            respond(context: context, head: head, status: .ok, headers: Self.jsonHeaders, body: answer)
        }
        func refuse(_ message: String) {
            respondError(context: context, head: head, status: .badRequest, message: message)
        }
        let registry = core.sharedMemory
        switch (kind, action) {
        case (.system, .status):
            do throws(SharedMemoryRegistry.Failure) {
                let regions = try registry.status(name: region)
                ok(ServerCore.encode(regions.map {
                    SystemRegionStatus(name: $0.name, key: $0.key, offset: $0.offset, byte_size: $0.byteSize)
                }))
            } catch {
                refuse(error.message)
            }
        case (.system, .register):
            guard let region else { return refuse("registering a region needs its name in the path") }
            do throws(SharedMemoryRegistry.Failure) {
                let request = try Self.registerRequest(body, region: region)
                try registry.register(name: region, key: request.key, offset: request.offset, byteSize: request.byteSize)
                ok()
            } catch {
                refuse(error.message)
            }
        case (.system, .unregister):
            registry.unregister(name: region)
            ok()
        case (.cuda, .status):
            if let region { return refuse(CUDASharedMemory.unknownRegion(region)) }
            ok(ByteBuffer(string: "[]"))
        case (.cuda, .register):
            refuse(CUDASharedMemory.registerRefusal(region: region ?? ""))
        case (.cuda, .unregister):
            ok()
        }
    }

    /// `{"key": $string, "offset": $number, "byte_size": $number}`; a missing offset means 0.
    static func registerRequest(_ body: ByteBuffer, region: String) throws(SharedMemoryRegistry.Failure) -> (key: String, offset: Int, byteSize: Int) {
        func invalid(_ reason: String) -> SharedMemoryRegistry.Failure {
            SharedMemoryRegistry.Failure(kind: .invalidArgument,
                                         message: "failed to register shared memory region '\(region)': \(reason)")
        }
        let json: JSONValue
        do {
            json = try JSONScanner.parse(Array(body.readableBytesView))
        } catch {
            throw invalid("the request body is not JSON: \(error)")
        }
        guard case .object(let fields) = json else { throw invalid("the request body must be a JSON object") }
        guard case .string(let key)? = fields["key"] else { throw invalid("'key' must be a string") }
        func size(_ name: String, whenMissing fallback: Int? = nil) throws(SharedMemoryRegistry.Failure) -> Int {
            if let value = fields[name] {
                if let size = SharedMemoryReference.size(value) { return size }
            } else if let fallback {
                return fallback
            }
            throw invalid("'\(name)' must be a non-negative integer")
        }
        return (key, try size("offset", whenMissing: 0), try size("byte_size"))
    }
}
