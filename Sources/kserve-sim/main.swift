import ArgumentParser
import Dispatch
import KServeProtocol
import KServeSim
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `kserve-sim`: serves simulated models over the KServe v2 HTTP and gRPC
/// protocols until it receives SIGINT or SIGTERM.
struct KServeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kserve-sim",
        abstract: "A small, fast KServe v2 inference server with simulated models.",
        discussion: """
            Answers health, metadata, config, statistics and infer requests the way Triton \
            does, over HTTP and gRPC (GRPCInferenceService, streaming included), for a fixed \
            set of test models (identity_fp32, identity_fp32_image, identity_int32_dynamic, identity_bytes, \
            add_sub, sequence_accumulator, double_fp32, ensemble_fp32, repeat_decoupled). \
            repeat_decoupled is decoupled, like Triton's test model of that name: for IN = [N] \
            it sends N responses (OUT = [N], IDX = [i]; N clamped to 0...100), plus an empty \
            final one flagged triton_final_response when the request sets \
            triton_enable_empty_final_response; it answers only over a gRPC stream \
            (ModelStreamInfer). A streamed request with the bool parameter sim_close_stream \
            set ends its whole stream with an error status (for client tests). Tensors may \
            come and go through registered system shared-memory regions (the \
            system_shared_memory extension); CUDA regions are refused, as by a Triton without GPUs.

            Once listening it prints two lines, "kserve-sim: HTTP listening on HOST:PORT" and \
            then "kserve-sim: gRPC listening on HOST:PORT" ("HTTPS" and "gRPC+TLS" with \
            TLS), and runs until SIGINT or SIGTERM. With --fault it also prints one line on \
            stderr saying what the fault does.

            Faults (--fault), for testing how a client copes with a broken server. Control \
            calls (health, metadata, config, statistics, shared memory) always answer, except \
            with silent; the others apply to the inference requests after the first \
            --fault-after ones (counted over both protocols and every connection):
              silent       both listeners accept connections, then never read or write a byte \
            (no HTTP answer, no HTTP/2 SETTINGS); a connection stays open until the client closes it.
              stall        never answered: an HTTP connection stays open and silent, a gRPC call \
            (unary or stream) gets no response and no status until the server stops.
              garbage      HTTP 200, body "this is not a KServe answer" (text/plain). HTTP only.
              wrong-shape  HTTP 200, body {"result":"ok"} (no Inference-Header-Content-Length); \
            gRPC: a response with no outputs.
              short-body   HTTP 200, the whole answer, with Inference-Header-Content-Length 100 \
            bytes longer than the body (Content-Length is right). HTTP only.
              slow-bytes   the right answer, sent slowly: over HTTP head and body go out 16 \
            bytes at a time, --fault-delay-ms apart (a 300-byte answer takes 18 pauses); over \
            gRPC each response waits 10 pauses.
              stream-error a streamed OpenAI answer sends half its tokens, then the event \
            data: {"error":{"message":"simulated failure mid-stream","type":"InternalServerError","code":500}} \
            and data: [DONE]; any other HTTP answer is 500 with that error. HTTP only.
              stream-cut   a streamed OpenAI answer sends half its tokens, then the first half of \
            the next event, and the connection closes (no [DONE], no last chunk); any other HTTP \
            answer sends its head and half its body, then closes. HTTP only.
              too-many-requests  HTTP 429 with an error body and Retry-After: 1; the request is \
            not run. HTTP only.
            OpenAI requests (chat, completions, embeddings) count as inference requests; \
            garbage and wrong-shape replace their answers (streamed ones too) with those bodies, \
            slow-bytes slows every event, short-body leaves them alone.
            In the HTTP-only modes a faulted gRPC inference fails UNIMPLEMENTED (a stream gets \
            an error_message response) and is not run. Statistics: a request that is stalled or \
            refused that way counts as a failure when it arrives; with the other modes the \
            model runs and counts as usual (a success when it succeeds). --record writes faulted \
            requests too, with "fault": "MODE".

            OpenAI-compatible endpoints, on the same HTTP listener (HTTPS with TLS): \
            GET /v1/models lists one model (--openai-model); POST /v1/chat/completions and \
            POST /v1/completions answer N tokens, one word each (N = max_completion_tokens or \
            max_tokens, else --openai-output-tokens), streamed as server-sent events with \
            "stream": true (chat: a role event with the first token; then one event per token, a \
            finish event, a usage event when stream_options.include_usage is true, and \
            data: [DONE]) or as one JSON answer with usage. The first token goes out \
            --openai-ttft-ms after the request was read, then one every --openai-itl-ms (each \
            due time counted from the request, so they do not drift); a whole answer goes out \
            when its last token is due. POST /v1/embeddings answers eight numbers per input after \
            --openai-ttft-ms. Prompt tokens are whitespace-separated words. Errors are \
            {"error":{"message":...,"type":...,"code":STATUS}}: 400 (body not JSON, no \
            messages/prompt/input), 404 (unknown model or path), 405 (wrong method). \
            GET /v1/sim/statistics answers what the server counted: {"requests", "succeeded", \
            "failed", "streamed", "prompt_tokens", "completion_tokens", "content_events"}. \
            --record writes one line per OpenAI request when its answer is settled: endpoint, \
            model, body (as received, a string), stream, prompt_tokens, tokens_sent, status, \
            succeeded, first_token_ns, last_token_ns (from the request being read), time_ns, \
            fault, headers.

            Metrics (--metrics-port): GET /metrics on that port (plain HTTP) answers \
            Prometheus text as Triton's metrics endpoint does: nv_gpu_utilization, \
            nv_gpu_power_usage, nv_gpu_memory_used_bytes and nv_gpu_memory_total_bytes for two \
            simulated GPUs (the second's series carry a device label before gpu_uuid), \
            nv_cpu_utilization, nv_cpu_memory_used_bytes and nv_cpu_memory_total_bytes, with \
            values that vary from read to read within fixed ranges, and \
            kserve_sim_metrics_reads_total, the reads served so far (this one included). Once \
            listening it prints a third line, "kserve-sim: metrics listening on HOST:PORT".
            """,
        version: "kserve-sim \(ReleaseVersion.current) (swift-perf-analyzer)")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "HTTP port; 0 picks a free one (printed when listening).")
    var httpPort = 8000

    @Option(name: .customLong("grpc-port"), help: "gRPC port; 0 picks a free one (printed when listening).")
    var grpcPort = 8001

    @Option(name: .customLong("delay-us"), help: "Extra compute time per model execution (per response of repeat_decoupled), in microseconds.")
    var delayMicroseconds = 0

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("record"), help: ArgumentHelp("Append one JSON line per inference request to this file; lines for sequence models carry sequence_in_flight (other requests of the same correlation ID received and not yet answered).", valueName: "file"))
    var recordPath: String?

    @Option(name: .customLong("tls-certificate-file"),
            help: ArgumentHelp("Serve HTTPS and gRPC over TLS with this PEM certificate (chain).", valueName: "file"))
    var tlsCertificateFile: String?

    @Option(name: .customLong("tls-private-key-file"),
            help: ArgumentHelp("The PEM private key of --tls-certificate-file.", valueName: "file"))
    var tlsPrivateKeyFile: String?

    @Option(name: .customLong("tls-client-ca-file"),
            help: ArgumentHelp("Require client certificates signed by this PEM CA (mutual TLS).", valueName: "file"))
    var tlsClientCAFile: String?

    @Option(name: .customLong("system-shared-memory"),
            help: ArgumentHelp("offered (default), absent (no such extension: its endpoints answer 404 and its RPCs unimplemented) or refusing (every registration fails), to try clients' error paths.", valueName: "support"))
    var systemSharedMemory: SimulatorConfiguration.SystemSharedMemorySupport = .offered

    @Option(name: .customLong("fault"),
            help: ArgumentHelp("Misbehave on purpose: silent, stall, garbage, wrong-shape, short-body, slow-bytes, stream-error, stream-cut or too-many-requests (see above).",
                               valueName: "mode"))
    var fault: SimulatorFault.Mode?

    @Option(name: .customLong("fault-after"),
            help: ArgumentHelp("Inference requests answered normally before the fault applies (default 0; not with silent).",
                               valueName: "n"))
    var faultAfter: Int?

    @Option(name: .customLong("fault-delay-ms"),
            help: ArgumentHelp("slow-bytes: pause between 16-byte pieces of an HTTP answer; gRPC answers wait 10 of them (default \(SimulatorFault.defaultDelayMilliseconds)).",
                               valueName: "ms"))
    var faultDelayMilliseconds: Int?

    @Option(name: .customLong("metrics-port"),
            help: ArgumentHelp("Serve Prometheus metrics at GET /metrics on this port; 0 picks a free one (printed when listening). (default: no metrics)",
                               valueName: "port"))
    var metricsPort: Int?

    @Option(name: .customLong("metrics-delay-ms"),
            help: ArgumentHelp("Hold back each metrics answer this long, to play a slow endpoint (default 0; needs --metrics-port).",
                               valueName: "ms"))
    var metricsDelayMilliseconds: Int?

    @Option(name: .customLong("openai-model"),
            help: ArgumentHelp("The model /v1/models lists and OpenAI requests must name.",
                               valueName: "name"))
    var openAIModel = OpenAISettings.defaultModelName

    @Option(name: .customLong("openai-output-tokens"),
            help: ArgumentHelp("Tokens per OpenAI answer when the request sets no max_tokens (1...\(OpenAISettings.maximumOutputTokens)).",
                               valueName: "n"))
    var openAIOutputTokens = OpenAISettings.defaultOutputTokens

    @Option(name: .customLong("openai-ttft-ms"),
            help: ArgumentHelp("Time from an OpenAI request being read to its first token, in ms; fractions allowed.",
                               valueName: "ms"))
    var openAITimeToFirstToken: Double = 0

    @Option(name: .customLong("openai-itl-ms"),
            help: ArgumentHelp("Time between two tokens of an OpenAI answer, in ms; fractions allowed.",
                               valueName: "ms"))
    var openAIInterTokenLatency: Double = 0

    func validate() throws {
        guard !openAIModel.isEmpty else { throw ValidationError("--openai-model must not be empty") }
        guard (1...OpenAISettings.maximumOutputTokens).contains(openAIOutputTokens) else {
            throw ValidationError("--openai-output-tokens must be in 1...\(OpenAISettings.maximumOutputTokens)")
        }
        for (flag, value) in [("--openai-ttft-ms", openAITimeToFirstToken), ("--openai-itl-ms", openAIInterTokenLatency)]
        where !(value.isFinite && (0...3_600_000).contains(value)) {
            throw ValidationError("\(flag) must be in 0...3600000")
        }
        if let metricsPort, !(0...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be in 0...65535") }
        if let metricsDelayMilliseconds {
            guard metricsPort != nil else { throw ValidationError("--metrics-delay-ms needs --metrics-port") }
            guard (0...SimulatorConfiguration.maximumMetricsDelayMilliseconds).contains(metricsDelayMilliseconds) else {
                throw ValidationError("--metrics-delay-ms must be in 0...\(SimulatorConfiguration.maximumMetricsDelayMilliseconds)")
            }
        }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be in 0...65535") }
        guard (0...65535).contains(grpcPort) else { throw ValidationError("--grpc-port must be in 0...65535") }
        guard delayMicroseconds >= 0 else { throw ValidationError("--delay-us must not be negative") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if (tlsCertificateFile == nil) != (tlsPrivateKeyFile == nil) {
            throw ValidationError("--tls-certificate-file and --tls-private-key-file go together")
        }
        if tlsClientCAFile != nil, tlsCertificateFile == nil {
            throw ValidationError("--tls-client-ca-file needs --tls-certificate-file and --tls-private-key-file")
        }
        if let faultAfter, faultAfter < 0 { throw ValidationError("--fault-after must not be negative") }
        if let faultDelayMilliseconds, !(0...SimulatorFault.maximumDelayMilliseconds).contains(faultDelayMilliseconds) {
            throw ValidationError("--fault-delay-ms must be in 0...\(SimulatorFault.maximumDelayMilliseconds)")
        }
        if fault == nil, faultAfter != nil || faultDelayMilliseconds != nil {
            throw ValidationError("--fault-after and --fault-delay-ms need --fault")
        }
        if fault == .silent, faultAfter != nil {
            throw ValidationError("--fault-after does not apply to --fault silent, which answers nothing at all")
        }
        if faultDelayMilliseconds != nil, let fault, fault != .slowBytes {
            throw ValidationError("--fault-delay-ms applies to --fault slow-bytes only, not \(fault.rawValue)")
        }
    }

    var simulatorFault: SimulatorFault? {
        fault.map { mode in
            SimulatorFault(mode, after: faultAfter ?? 0,
                           delayMilliseconds: faultDelayMilliseconds ?? SimulatorFault.defaultDelayMilliseconds)
        }
    }

    var openAI: OpenAISettings {
        OpenAISettings(modelName: openAIModel, outputTokens: openAIOutputTokens,
                       timeToFirstToken: .nanoseconds(Int64((openAITimeToFirstToken * 1_000_000).rounded())),
                       interTokenLatency: .nanoseconds(Int64((openAIInterTokenLatency * 1_000_000).rounded())))
    }

    var tls: TLSSettings? {
        guard let tlsCertificateFile, let tlsPrivateKeyFile else { return nil }
        return TLSSettings(certificatePath: tlsCertificateFile, privateKeyPath: tlsPrivateKeyFile,
                           clientCAPath: tlsClientCAFile)
    }

    func run() async throws {
        let simulator = KServeSimulator(configuration: SimulatorConfiguration(
            host: host, httpPort: httpPort, grpcPort: grpcPort, delayMicroseconds: delayMicroseconds,
            threads: threads ?? System.coreCount, recordPath: recordPath, tls: tls, systemSharedMemory: systemSharedMemory,
            fault: simulatorFault, metricsPort: metricsPort, metricsDelayMilliseconds: metricsDelayMilliseconds ?? 0,
            openAI: openAI))
        // Ignore the signals before listening, so one arriving early still stops us cleanly.
        let termination = TerminationSignal()
        let port: Int
        do {
            port = try await simulator.start()
        } catch {
            // Exactly one line, whatever a TLS library put in its error text.
            FileHandleOutput.standardError("kserve-sim: \(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
            throw ExitCode(1)
        }
        // stdout may be a pipe whose reader waits for these lines. Flushing after each
        // keeps the HTTP line a write of its own for readers that take only the first.
        let secure = tls != nil
        print("kserve-sim: \(secure ? "HTTPS" : "HTTP") listening on \(host):\(port)")
        fflush(nil)
        print("kserve-sim: \(secure ? "gRPC+TLS" : "gRPC") listening on \(host):\(simulator.grpcPort ?? grpcPort)")
        fflush(nil)
        if let port = simulator.metricsPort {
            print("kserve-sim: metrics listening on \(host):\(port)")
            fflush(nil)
        }
        // On stderr, so that scripts reading the listening lines from stdout see no change.
        if let simulatorFault { FileHandleOutput.standardError("kserve-sim: \(simulatorFault)") }
        await termination.wait()
        try await simulator.stop()
    }
}

/// Waits for SIGINT or SIGTERM through Dispatch signal sources (the default
/// action, dying on the spot, would skip flushing the record file).
final class TerminationSignal: @unchecked Sendable {
    // Guarded by `lock`; sources stay referenced so they keep firing.
    private let lock = DispatchQueue(label: "kserve-sim.signals")
    private var sources: [DispatchSourceSignal] = []
    private var fired = false
    private var waiter: CheckedContinuation<Void, Never>?

    init() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: lock)
            source.setEventHandler { [unowned self] in
                fired = true
                waiter?.resume()
                waiter = nil
            }
            source.resume()
            sources.append(source)
        }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            lock.async {
                if self.fired { continuation.resume() } else { self.waiter = continuation }
            }
        }
    }
}

/// An argument-parser message on one line; its bulleted list of valid values becomes a comma-separated one.
func oneLine(_ message: String) -> String {
    var text = ""
    var values: [Substring] = []
    for line in message.split(whereSeparator: \.isNewline) {
        let trimmed = line.drop { $0 == " " }
        if trimmed.hasPrefix("- ") {
            values.append(trimmed.dropFirst(2))
            continue
        }
        if !values.isEmpty {
            text += " " + values.joined(separator: ", ")
            values = []
        }
        text += text.isEmpty ? String(trimmed) : " " + trimmed
    }
    if !values.isEmpty { text += " " + values.joined(separator: ", ") }
    return text
}

enum FileHandleOutput {
    static func standardError(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

// Parsed by hand because a file named main.swift cannot carry @main.
let command: KServeSimCommand
do {
    command = try KServeSimCommand.parse()
} catch {
    // --help and --version print as usual; a bad option or value is one line on stderr.
    let status = KServeSimCommand.exitCode(for: error)
    guard !status.isSuccess else { KServeSimCommand.exit(withError: error) }
    FileHandleOutput.standardError("kserve-sim: \(oneLine(KServeSimCommand.message(for: error))) (see kserve-sim --help)")
    exit(status.rawValue)
}
do {
    try await command.run()
} catch {
    KServeSimCommand.exit(withError: error)
}

extension SimulatorConfiguration.SystemSharedMemorySupport: ExpressibleByArgument {}
extension SimulatorFault.Mode: ExpressibleByArgument {}
