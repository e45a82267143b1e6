import Foundation
import Testing
@testable import PerfAnalyzerKit

/// Parses a command line the way the executable does and resolves it.
private func resolve(_ arguments: [String]) throws -> PerfAnalyzerOptions {
    let command = try PerfAnalyzerCommand.parse(arguments)
    return try command.resolve()
}

@Suite("Command line")
struct CommandLineTests {
    @Test("defaults match perf_analyzer's")
    func defaults() throws {
        let options = try resolve(["-m", "identity_fp32"])
        #expect(options.modelName == "identity_fp32")
        #expect(options.modelVersion == "")
        #expect(options.url == "localhost:8000")
        #expect(options.wireProtocol == .http)
        #expect(options.batchSize == 1)
        #expect(options.concurrencyRange == ConcurrencyRange(start: 1, end: 1, step: 1))
        #expect(options.asyncRequested == nil)
        #expect(options.maxThreads == 16)
        #expect(options.measurementIntervalMs == 5000)
        #expect(options.measurementMode == .timeWindows)
        #expect(options.measurementRequestCount == 50)
        #expect(options.stabilityPercentage == 10)
        #expect(options.maxTrials == 10)
        #expect(options.percentile == nil)
        #expect(options.requestCount == 0)
        #expect(options.warmupRequestCount == 0)
        #expect(options.latencyThresholdMs == 0)
        #expect(!options.binarySearch)
        #expect(options.inputTensorFormat == .binary)
        #expect(options.outputTensorFormat == .binary)
        #expect(options.csvPath == nil)
        #expect(!options.verboseCSV)
        #expect(options.verbosity == 0)
    }

    @Test("short, long, and --flag=value spellings all land in the same options")
    func spellings() throws {
        let spaced = try resolve([
            "-m", "m", "-x", "2", "-u", "127.0.0.1:9000", "-i", "http", "-b", "4",
            "--concurrency-range", "2:8:2", "-p", "200", "--measurement-mode", "count_windows",
            "--measurement-request-count", "77", "-s", "5", "-r", "7", "--percentile", "95",
            "-l", "30", "--max-threads", "3", "-f", "out.csv", "--verbose-csv", "-H", "A:b",
            "-H", "Trace: on", "--input-tensor-format", "json", "--output-tensor-format", "JSON", "-a",
        ])
        let joined = try resolve([
            "-m", "m", "-x", "2", "-u", "127.0.0.1:9000", "-i", "HTTP", "--batch-size=4",
            "--concurrency-range=2:8:2", "--measurement-interval=200", "--measurement-mode=count_windows",
            "--measurement-request-count=77", "--stability-percentage=5", "--max-trials=7", "--percentile=95",
            "--latency-threshold=30", "--max-threads=3", "-f", "out.csv", "--verbose-csv", "-H", "A:b",
            "-H", "Trace: on", "--input-tensor-format=json", "--output-tensor-format=json", "--async",
        ])
        #expect(spaced == joined)
        #expect(spaced.modelVersion == "2")
        #expect(spaced.url == "127.0.0.1:9000")
        #expect(spaced.batchSize == 4)
        #expect(spaced.concurrencyRange == ConcurrencyRange(start: 2, end: 8, step: 2))
        #expect(spaced.measurementIntervalMs == 200)
        #expect(spaced.measurementMode == .countWindows)
        #expect(spaced.measurementRequestCount == 77)
        #expect(spaced.stabilityPercentage == 5)
        #expect(spaced.maxTrials == 7)
        #expect(spaced.percentile == 95)
        #expect(spaced.latencyThresholdMs == 30)
        #expect(spaced.maxThreads == 3)
        #expect(spaced.maxThreadsGiven)
        #expect(spaced.csvPath == "out.csv")
        #expect(spaced.verboseCSV)
        #expect(spaced.headers == [HeaderField(name: "A", value: "b"), HeaderField(name: "Trace", value: "on")])
        #expect(spaced.inputTensorFormat == .json)
        #expect(spaced.outputTensorFormat == .json)
        #expect(spaced.asyncRequested == true)
    }

    @Test("-v counts, --sync, request counts")
    func flags() throws {
        #expect(try resolve(["-m", "m", "-v"]).verbosity == 1)
        #expect(try resolve(["-m", "m", "-v", "-v"]).verbosity == 2)
        #expect(try resolve(["-m", "m", "--sync"]).asyncRequested == false)
        let counted = try resolve(["-m", "m", "--request-count", "500", "--warmup-request-count", "20", "--concurrency-range", "4"])
        #expect(counted.requestCount == 500)
        #expect(counted.warmupRequestCount == 20)
        #expect(try resolve(["-m", "m", "--binary-search", "--concurrency-range", "1:16", "-l", "5"]).binarySearch)
        #expect(try resolve(["-m", "m", "--shape", "INPUT0:2,3"]).shapes == ["INPUT0": [2, 3]])
    }

    @Test("concurrency ranges", arguments: [
        ("4", ConcurrencyRange(start: 4, end: 4, step: 1)),
        ("1:4", ConcurrencyRange(start: 1, end: 4, step: 1)),
        ("2:10:4", ConcurrencyRange(start: 2, end: 10, step: 4)),
        ("1:0:2", ConcurrencyRange(start: 1, end: 0, step: 2)),
    ])
    func ranges(text: String, expected: ConcurrencyRange) throws {
        #expect(try RangeParser.concurrency(text) == expected)
    }

    @Test("bad command lines give one line naming the flag", arguments: [
        (["-m", "m", "--concurrency-range", "4:1"], "--concurrency-range 4:1"),
        (["-m", "m", "--concurrency-range", "a:2"], "--concurrency-range a:2"),
        (["-m", "m", "--concurrency-range", "0:2"], "start of the range must be > 0"),
        (["-m", "m", "--concurrency-range", "1:2:3:4"], "start[:end[:step]]"),
        (["-m", "m", "--concurrency-range", "1:0"], "needs a latency limit"),
        (["-m", "m", "--async", "--sync"], "--async and --sync"),
        (["-m", "m", "-b", "0"], "-b 0"),
        (["-m", "m", "-p", "0"], "-p 0"),
        (["-m", "m", "--percentile", "100"], "--percentile 100"),
        (["-m", "m", "--binary-search", "--concurrency-range", "1:8"], "--binary-search needs a latency limit"),
        (["-m", "m", "--request-count", "10", "--concurrency-range", "1:4"], "--request-count"),
        (["-m", "m", "--request-count", "2", "--concurrency-range", "4"], "below the concurrency"),
        (["-m", "m", "-H", "novalue"], "-H novalue"),
        (["-m", "m", "--input-data", "data.json"], "--input-data data.json"),
        (["-m", "m", "--shape", "INPUT0:2,x"], "--shape INPUT0:2,x"),
        (["-x", "1"], "-m"),
        (["-m", "m", "--mpi-split-load"], "--mpi-split-load: needs --enable-mpi"),
        (["-m", "m", "--enable-mpi", "--mpi-split-load", "--service-kind", "openai", "--endpoint", "v1/chat/completions", "--synthetic-prompt-words", "8", "-u", "localhost:9"], "--mpi-split-load: cannot be combined with --service-kind openai"),
    ])
    func badLines(arguments: [String], fragment: String) throws {
        do {
            _ = try resolve(arguments)
            Issue.record("expected \(arguments) to be refused")
        } catch let error as OptionError {
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("enum-valued flags: any letter case; another value is one line naming the flag, the value and the choices", arguments: [
        (["-i", "smtp"], "The value 'smtp' is invalid for '-i <protocol>'. Please provide one of 'http' and 'grpc'."),
        (["--measurement-mode", "windows"], "The value 'windows' is invalid for '--measurement-mode <mode>'. Please provide one of 'time_windows' and 'count_windows'."),
        (["--input-tensor-format", "xml"], "The value 'xml' is invalid for '--input-tensor-format <format>'. Please provide one of 'binary' and 'json'."),
        (["--shared-memory", "gpu"], "The value 'gpu' is invalid for '--shared-memory <kind>'. Please provide one of 'none', 'system' or 'cuda'."),
        (["--request-distribution", "uniform"], "The value 'uniform' is invalid for '--request-distribution <distribution>'. Please provide one of 'constant' and 'poisson'."),
        (["-i", "grpc", "--grpc-compression-algorithm", "brotli"], "The value 'brotli' is invalid for '--grpc-compression-algorithm <algorithm>'. Please provide one of 'none', 'gzip' or 'deflate'."),
        (["--ssl-https-private-key-type", "P12"], "The value 'P12' is invalid for '--ssl-https-private-key-type <type>'. Please provide one of 'PEM' and 'DER'."),
    ])
    func enumValues(arguments: [String], message: String) throws {
        do {
            _ = try PerfAnalyzerCommand.parse(["-m", "m"] + arguments)
            Issue.record("expected \(arguments) to be refused")
        } catch {
            #expect(PerfAnalyzerCommand.message(for: error) == message)
        }
        let options = try PerfAnalyzerCommand.parse(["-m", "m", "-i", "GRPC", "--measurement-mode", "Count_Windows",
                                                     "--grpc-compression-algorithm", "GZIP"]).resolve()
        #expect(options.wireProtocol == .grpc)
        #expect(options.measurementMode == .countWindows)
        #expect(options.grpcCompression == .gzip)
    }

    @Test("unknown flags and non-numbers are refused by the parser")
    func parserErrors() {
        #expect(throws: (any Error).self) { try PerfAnalyzerCommand.parse(["-m", "m", "--no-such-flag"]) }
        #expect(throws: (any Error).self) { try PerfAnalyzerCommand.parse(["-m", "m", "-b", "two"]) }
        #expect(throws: (any Error).self) { try PerfAnalyzerCommand.parse(["-m", "m", "-p", "five"]) }
    }

    @Test("perf_analyzer flags not implemented yet are named, never ignored")
    func notYetImplemented() {
        #expect(RefusedFlags.firstIn(["-m", "m", "--schedule", "1,2"]) == "--schedule")
        #expect(RefusedFlags.firstIn(["-m", "m", "--session-concurrency", "10"]) == nil)
        #expect(RefusedFlags.firstIn(["-m", "m", "--grpc-method=pkg.Svc/Call"]) == "--grpc-method")
        #expect(RefusedFlags.firstIn(["-m", "m", "--request-rate-range", "10"]) == nil)
        #expect(RefusedFlags.firstIn(["-m", "m", "--data-directory=/tmp"]) == nil)
        #expect(RefusedFlags.firstIn(["-m", "m", "--streaming"]) == nil)
        #expect(RefusedFlags.firstIn(["-m", "m", "-z"]) == nil)
        #expect(RefusedFlags.firstIn(["-m", "m", "--trace-level", "TIMESTAMPS"]) == nil)
        #expect(RefusedFlags.firstIn(["-m", "m", "--concurrency-range", "2"]) == nil)
        #expect(RefusedFlags.refusal("--grpc-method") ==
            "--grpc-method is a perf_analyzer flag that perf-analyzer refuses: it belongs to --service-kind dynamic_grpc, which perf-analyzer does not support: there is no such server here to test it against")
        #expect(RefusedFlags.firstIn(["-m", "m", "--enable-mpi"]) == nil)
    }

    @Test("deprecated -t, -c, -d, -z and --data-directory read as their replacements, with a notice each")
    func deprecatedFlags() throws {
        #expect(try resolve(["-m", "m", "-t", "4"]).concurrencyRange == ConcurrencyRange(start: 4, end: 4, step: 1))
        #expect(try resolve(["-m", "m", "-t", "2", "-c", "6"]).concurrencyRange == ConcurrencyRange(start: 2, end: 6, step: 1))
        #expect(try resolve(["-m", "m", "-c", "3"]).concurrencyRange == ConcurrencyRange(start: 1, end: 3, step: 1))
        #expect(try resolve(["-m", "m", "-d", "-c", "8"]).concurrencyRange == ConcurrencyRange(start: 1, end: 8, step: 1))
        // -d alone searches without an upper end, so it needs a latency limit like --concurrency-range 1:0.
        #expect(try resolve(["-m", "m", "-d", "-l", "50"]).concurrencyRange == ConcurrencyRange(start: 1, end: 0, step: 1))
        #expect(throws: OptionError.self) { try resolve(["-m", "m", "-d"]) }
        #expect(try resolve(["-m", "m", "-z"]).inputData == .zero)
        let directory = FileManager.default.temporaryDirectory.path
        #expect(try resolve(["-m", "m", "--data-directory", directory]).inputData == .directory(directory))

        let command = try PerfAnalyzerCommand.parse(["-m", "m", "-t", "2", "-c", "6", "-z"])
        #expect(command.deprecationNotices == [
            "warning: -t 2 -c 6 is deprecated; read as --concurrency-range 2:6:1",
            "warning: -z is deprecated; read as --input-data zero",
        ])
        #expect(try PerfAnalyzerCommand.parse(["-m", "m"]).deprecationNotices.isEmpty)

        for clash in [["-t", "2", "--concurrency-range", "3"], ["-c", "2", "--request-rate-range", "10"],
                      ["-z", "--input-data", "random"], ["-z", "--data-directory", directory]] {
            #expect(throws: OptionError.self, "\(clash)") { try resolve(["-m", "m"] + clash) }
        }
    }

    @Test("trace settings: levels accumulate, values are checked")
    func traceSettings() throws {
        let options = try resolve(["-m", "m", "--trace-level", "TIMESTAMPS", "--trace-level", "TENSORS", "--trace-rate", "7",
                                   "--trace-count", "-1", "--log-frequency", "0"])
        #expect(options.traceSettings.settings.map(\.name) == ["trace_level", "trace_rate", "trace_count", "log_frequency"])
        #expect(options.traceSettings.settings.map(\.values) == [["TIMESTAMPS", "TENSORS"], ["7"], ["-1"], ["0"]])
        #expect(try resolve(["-m", "m"]).traceSettings.isEmpty)
        for bad in [["--trace-level", "ALL"], ["--trace-rate", "0"], ["--trace-count", "-2"], ["--log-frequency", "-1"]] {
            #expect(throws: OptionError.self, "\(bad)") { try resolve(["-m", "m"] + bad) }
        }
    }

    @Test("--bls-composing-models: name[:version] list, spaces dropped")
    func blsComposingModels() throws {
        let options = try resolve(["-m", "m", "--bls-composing-models", "a:3, b ,a:3"])
        #expect(options.blsComposingModels == [.init(name: "a", version: "3"), .init(name: "b", version: "")])
        for bad in ["a,,b", ":3", "a:x", "a:"] {
            #expect(throws: OptionError.self, "\(bad)") { try resolve(["-m", "m", "--bls-composing-models", bad]) }
        }
    }

    @Test("server addresses")
    func addresses() throws {
        #expect(try ServerAddress(parsing: "localhost:8000", defaultPort: 1) == ServerAddress(host: "localhost", port: 8000))
        #expect(try ServerAddress(parsing: "http://127.0.0.1:9/", defaultPort: 1) == ServerAddress(host: "127.0.0.1", port: 9))
        #expect(try ServerAddress(parsing: "[::1]:8000", defaultPort: 1) == ServerAddress(host: "::1", port: 8000))
        #expect(try ServerAddress(parsing: "example", defaultPort: 8000) == ServerAddress(host: "example", port: 8000))
        #expect(throws: ServerAddress.ParseError.self) { try ServerAddress(parsing: "host:99999", defaultPort: 1) }
        #expect(throws: ServerAddress.ParseError.self) { try ServerAddress(parsing: "host:abc", defaultPort: 1) }
    }
}
