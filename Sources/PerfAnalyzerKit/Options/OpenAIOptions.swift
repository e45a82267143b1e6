import ArgumentParser

extension PerfAnalyzerOptions {
    /// `--service-kind openai`: requests go as JSON bodies to `--endpoint` of an
    /// OpenAI-compatible server, from `--input-data` payloads or generated ones.
    public struct OpenAI: Sendable, Equatable {
        /// The path after the URL, without a leading slash, e.g. `v1/chat/completions`.
        public var endpoint: String
        /// Generated request bodies (`--synthetic-*`); nil when `--input-data` gives them.
        public var synthetic: SyntheticPayloads?

        public init(endpoint: String, synthetic: SyntheticPayloads? = nil) {
            self.endpoint = endpoint
            self.synthetic = synthetic
        }
    }
}

extension PerfAnalyzerCommand {
    public struct OpenAIFlags: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("--service-kind openai: the path requests go to, e.g. v1/chat/completions, v1/completions, v1/embeddings.", valueName: "path"))
        var endpoint: String?

        @Option(name: .long, help: ArgumentHelp("Objectives a request must meet to count toward goodput, msec: ttft:MS,itl:MS,latency:MS (any of them; itl is held against the request's time per output token).", valueName: "objectives"))
        var goodput: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("--service-kind openai without --input-data: generate request bodies whose prompts have this many words on average. Words, not tokens: counting tokens needs the model's tokenizer, which perf-analyzer does not have.", valueName: "words"))
        var syntheticPromptWords: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Standard deviation of the generated prompts' word counts. (default: 0)", valueName: "words"))
        var syntheticPromptWordsStddev: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("max_tokens of the generated requests, on average. (default: 128)", valueName: "tokens"))
        var syntheticOutputTokens: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Standard deviation of the generated requests' max_tokens. (default: 0)", valueName: "tokens"))
        var syntheticOutputTokensStddev: Int?

        @Option(name: .long, help: ArgumentHelp("Whether the generated requests ask for a streamed answer (with a usage block at its end). (default: true)", valueName: "true|false"))
        var syntheticStream: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("How many different request bodies to generate; they are sent in turn. (default: 100)", valueName: "n"))
        var syntheticEntries: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Seed of the generated request bodies; the same seed gives the same bodies. (default: 0)", valueName: "n"))
        var syntheticSeed: UInt64?

        public init() {}

        var syntheticGiven: String? {
            if syntheticPromptWords != nil { return "--synthetic-prompt-words" }
            if syntheticPromptWordsStddev != nil { return "--synthetic-prompt-words-stddev" }
            if syntheticOutputTokens != nil { return "--synthetic-output-tokens" }
            if syntheticOutputTokensStddev != nil { return "--synthetic-output-tokens-stddev" }
            if syntheticStream != nil { return "--synthetic-stream" }
            if syntheticEntries != nil { return "--synthetic-entries" }
            if syntheticSeed != nil { return "--synthetic-seed" }
            return nil
        }
    }

    /// The rules of `--service-kind openai`, in one place: what it needs, what it refuses.
    func resolveOpenAI(into options: inout PerfAnalyzerOptions) throws(OptionError) {
        let kind = "--service-kind openai"
        guard general.serviceKind.lowercased() == "openai" else {
            if measurement.sessionConcurrency != nil { throw OptionError("--session-concurrency: only with --service-kind openai (its sessions are chats)") }
            if openAI.endpoint != nil { throw OptionError("--endpoint: applies to --service-kind openai") }
            if let flag = openAI.syntheticGiven { throw OptionError("\(flag): applies to --service-kind openai") }
            if let text = openAI.goodput {
                guard options.streaming else { throw OptionError("--goodput: needs token streams: --service-kind openai, or a decoupled model with -i grpc --streaming") }
                options.goodput = try Goodput(parsing: text)
            }
            return
        }
        guard let endpoint = openAI.endpoint, !endpoint.drop(while: { $0 == "/" }).isEmpty else {
            throw OptionError("\(kind): --endpoint is required, e.g. --endpoint v1/chat/completions")
        }
        guard options.wireProtocol == .http else { throw OptionError("-i grpc: \(kind) speaks HTTP only") }
        guard options.batchSize == 1 else { throw OptionError("-b \(options.batchSize): \(kind) sends one request body per request; batching is not supported") }
        var settings = PerfAnalyzerOptions.OpenAI(endpoint: String(endpoint.drop { $0 == "/" }))
        if let flag = openAI.syntheticGiven {
            guard inputData.inputData.isEmpty else {
                throw OptionError("\(flag): generates the request bodies; it cannot be combined with --input-data")
            }
            if options.loadMode == .fixedSchedule {
                throw OptionError("\(flag): --fixed-schedule takes its timestamps from --input-data; generated bodies have none")
            }
            settings.synthetic = try syntheticPayloads(model: options.modelName)
            settings.synthetic?.shape = SyntheticPayloads.Shape(endpoint: settings.endpoint)
        } else {
            switch options.inputData {
            case .jsonFiles: break
            case .random where inputData.inputData.isEmpty:
                throw OptionError("\(kind): --input-data FILE is required (perf_analyzer's {\"data\": [{\"payload\": [{...request body...}]}]}), or generate bodies with --synthetic-prompt-words N")
            default:
                throw OptionError("--input-data \(inputData.inputData.joined(separator: " ")): \(kind) takes JSON files of request bodies ({\"data\": [{\"payload\": [{...}]}]}), not random, zero or a directory")
            }
        }
        options.openAI = settings
        if let sessions = measurement.sessionConcurrency {
            try NumericBounds.check(sessions, in: 1...NumericBounds.connectionLimit(), flag: "--session-concurrency",
                                    expected: "a number of sessions from 1 to \(NumericBounds.connectionLimit()) (one connection each)")
            if settings.synthetic != nil { throw OptionError("--session-concurrency: plays the chats of --input-data; generated bodies have no sessions") }
            if let other = [("--concurrency-range", measurement.concurrencyRange), ("--request-rate-range", measurement.requestRateRange),
                            ("--request-intervals", measurement.requestIntervals)].first(where: { $0.1 != nil })?.0 ?? (measurement.fixedSchedule ? "--fixed-schedule" : nil) {
                throw OptionError("--session-concurrency is a load mode of its own; it cannot be combined with \(other)")
            }
            if options.requestCount > 0 { throw OptionError("--request-count: --session-concurrency plays every turn of --input-data once; the count is theirs") }
            if options.warmupRequestCount > 0 { throw OptionError("--warmup-request-count: not implemented with --session-concurrency") }
            if options.binarySearch { throw OptionError("--binary-search searches a range; --session-concurrency has one level") }
            options.sessionConcurrency = sessions
            options.concurrencyRange = ConcurrencyRange(start: sessions, end: sessions, step: 1)
        }
        if let text = openAI.goodput { options.goodput = try Goodput(parsing: text) }
        // Triton-only features, each refused by name.
        let refused: [(String, Bool)] = [
            ("--shared-memory", options.sharedMemory != .none),
            ("--input-tensor-format", options.inputTensorFormat != .binary),
            ("--output-tensor-format", options.outputTensorFormat != .binary),
            ("--shape", !options.shapes.isEmpty),
            ("--request-parameter", !options.requestParameters.isEmpty),
            ("--bls-composing-models", !options.blsComposingModels.isEmpty),
            ("--collect-metrics", options.serverMetrics != nil),
            ("--trace-level/--trace-rate/--trace-count/--log-frequency", !options.traceSettings.isEmpty),
            ("--periodic-concurrency-range", measurement.periodicConcurrencyRange != nil),
            ("--sync", options.asyncRequested == false),
        ]
        if let flag = refused.first(where: { $0.1 })?.0 {
            throw OptionError("\(flag): not available with \(kind) (it belongs to Triton's protocol)")
        }
    }

    private func syntheticPayloads(model: String) throws(OptionError) -> SyntheticPayloads {
        var settings = SyntheticPayloads(model: model)
        if let words = openAI.syntheticPromptWords {
            try NumericBounds.check(words, in: 1...1_000_000, flag: "--synthetic-prompt-words", expected: "a word count from 1 to 1000000")
            settings.promptWordsMean = words
        }
        if let words = openAI.syntheticPromptWordsStddev {
            try NumericBounds.check(words, in: 0...1_000_000, flag: "--synthetic-prompt-words-stddev", expected: "a deviation from 0 to 1000000")
            settings.promptWordsStddev = words
        }
        if let tokens = openAI.syntheticOutputTokens {
            try NumericBounds.check(tokens, in: 1...10_000_000, flag: "--synthetic-output-tokens", expected: "a token count from 1 to 10000000")
            settings.outputTokensMean = tokens
        }
        if let tokens = openAI.syntheticOutputTokensStddev {
            try NumericBounds.check(tokens, in: 0...10_000_000, flag: "--synthetic-output-tokens-stddev", expected: "a deviation from 0 to 10000000")
            settings.outputTokensStddev = tokens
        }
        if let text = openAI.syntheticStream {
            switch text.lowercased() {
            case "true", "1", "yes", "on": settings.stream = true
            case "false", "0", "no", "off": settings.stream = false
            default: throw OptionError("--synthetic-stream \(text): expected true or false")
            }
        }
        if let entries = openAI.syntheticEntries {
            try NumericBounds.check(entries, in: 1...1_000_000, flag: "--synthetic-entries", expected: "a count from 1 to 1000000")
            settings.entries = entries
        }
        if let seed = openAI.syntheticSeed { settings.seed = seed }
        return settings
    }
}
