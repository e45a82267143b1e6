import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KServeGRPC
import KServeProtocol
import KServeSim

typealias InferenceClient = Inference_GRPCInferenceService.Client<HTTP2ClientTransport.Posix>

/// A running simulator with a gRPC client and the HTTP test client pointed at it.
struct GRPCTestContext: Sendable {
    var grpc: InferenceClient
    var http: TestClient
    var simulator: KServeSimulator
}

/// Runs `body` against a fresh simulator on free ports (plaintext unless `tls` is
/// given) and always stops it after.
func withGRPCSimulator<Result: Sendable>(
    delayMicroseconds: Int = 0, recordPath: String? = nil, fault: SimulatorFault? = nil,
    tls: TLSSettings? = nil, clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
    _ body: (GRPCTestContext) async throws -> Result
) async throws -> Result {
    let simulator = KServeSimulator(configuration: SimulatorConfiguration(
        httpPort: 0, grpcPort: 0, delayMicroseconds: delayMicroseconds, threads: 2, recordPath: recordPath, tls: tls,
        fault: fault))
    let httpPort = try await simulator.start()
    do {
        guard let grpcPort = simulator.grpcPort else { throw TestClientError("a running simulator has no gRPC port") }
        let result = try await withInferenceClient(port: grpcPort, security: clientSecurity) { client in
            try await body(GRPCTestContext(grpc: client, http: TestClient(port: httpPort), simulator: simulator))
        }
        try await simulator.stop()
        return result
    } catch {
        try? await simulator.stop()
        throw error
    }
}

/// A gRPC client on 127.0.0.1:`port` that can send and accept every compression algorithm.
func withInferenceClient<Result: Sendable>(
    port: Int, security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
    _ body: (InferenceClient) async throws -> Result
) async throws -> Result {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security,
        config: .defaults { $0.compression.enabledAlgorithms = .all })
    return try await withGRPCClient(transport: transport) { client in
        try await body(InferenceClient(wrapping: client))
    }
}

/// Call options that fail fast instead of waiting for a connection that will never work.
func failFast(seconds: Int64 = 10) -> CallOptions {
    var options = CallOptions.defaults
    options.waitForReady = false
    options.timeout = .seconds(seconds)
    return options
}

// MARK: Requests

func boolParameter(_ value: Bool) -> Inference_InferParameter {
    var parameter = Inference_InferParameter()
    parameter.boolParam = value
    return parameter
}

func int64Parameter(_ value: Int64) -> Inference_InferParameter {
    var parameter = Inference_InferParameter()
    parameter.int64Param = value
    return parameter
}

func stringParameter(_ value: String) -> Inference_InferParameter {
    var parameter = Inference_InferParameter()
    parameter.stringParam = value
    return parameter
}

extension Inference_ModelInferRequest {
    /// A request whose inputs travel as `raw_input_contents`, the way perf_analyzer sends them.
    static func raw(model: String, id: String = "", parameters: [String: Inference_InferParameter] = [:],
                    inputs: [(String, DataType, [Int64], [UInt8])], outputs: [String] = []) -> Self {
        var request = Self()
        request.modelName = model
        request.id = id
        request.parameters = parameters
        for (name, datatype, shape, bytes) in inputs {
            var input = InferInputTensor()
            input.name = name
            input.datatype = datatype.rawValue
            input.shape = shape
            request.inputs.append(input)
            request.rawInputContents.append(Data(bytes))
        }
        request.outputs = outputs.map { name in
            var output = InferRequestedOutputTensor()
            output.name = name
            return output
        }
        return request
    }

    /// A `repeat_decoupled` request for `count` responses.
    static func repeatDecoupled(_ count: Int32, id: String = "", finalResponse: Bool) -> Self {
        raw(model: "repeat_decoupled", id: id,
            parameters: finalResponse ? ["triton_enable_empty_final_response": boolParameter(true)] : [:],
            inputs: [("IN", .int32, [1], rawBytes([count]))])
    }
}

// MARK: Responses

extension Inference_ModelInferResponse {
    func rawOutput(_ name: String) -> [UInt8]? {
        guard let index = outputs.firstIndex(where: { $0.name == name }), index < rawOutputContents.count else { return nil }
        return Array(rawOutputContents[index])
    }

    func int32s(_ name: String) -> [Int32]? {
        rawOutput(name).map { bytes in
            stride(from: 0, to: bytes.count - 3, by: 4).map { offset in
                Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                      | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
            }
        }
    }

    func floats(_ name: String) -> [Float]? {
        int32s(name).map { $0.map { Float(bitPattern: UInt32(bitPattern: $0)) } }
    }

    /// `triton_final_response`, when the response carries it.
    var finalFlag: Bool? {
        guard case .boolParam(let flag)? = parameters["triton_final_response"]?.parameterChoice else { return nil }
        return flag
    }
}

// MARK: Streams

/// One `ModelStreamInfer` call that the test drives request by request.
struct InferStream {
    let requests: AsyncStream<Inference_ModelInferRequest>.Continuation
    var responses: RPCAsyncSequence<Inference_ModelStreamInferResponse, any Error>.AsyncIterator

    func send(_ request: Inference_ModelInferRequest) {
        requests.yield(request)
    }

    /// The next response; fails when the stream ends first.
    mutating func next() async throws -> Inference_ModelStreamInferResponse {
        guard let response = try await responses.next() else { throw TestClientError("the stream ended") }
        return response
    }

    mutating func next(_ count: Int) async throws -> [Inference_ModelStreamInferResponse] {
        var received: [Inference_ModelStreamInferResponse] = []
        for _ in 0..<count { received.append(try await next()) }
        return received
    }

    /// Ends the requests and returns whatever else the server sends before closing.
    mutating func finish() async throws -> [Inference_ModelStreamInferResponse] {
        requests.finish()
        var rest: [Inference_ModelStreamInferResponse] = []
        while let response = try await responses.next() { rest.append(response) }
        return rest
    }
}

extension InferenceClient {
    func withStream<Result: Sendable>(
        options: CallOptions = failFast(), metadata: Metadata = [:],
        _ body: @escaping @Sendable (inout InferStream) async throws -> Result
    ) async throws -> Result {
        let (requests, continuation) = AsyncStream.makeStream(of: Inference_ModelInferRequest.self)
        defer { continuation.finish() }
        return try await modelStreamInfer(metadata: metadata, options: options, requestProducer: { writer in
            for await request in requests { try await writer.write(request) }
        }, onResponse: { response in
            var stream = InferStream(requests: continuation, responses: response.messages.makeAsyncIterator())
            defer { continuation.finish() }
            return try await body(&stream)
        })
    }
}
