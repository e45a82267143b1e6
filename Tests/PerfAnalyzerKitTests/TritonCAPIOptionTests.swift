import Foundation
import KServeProtocol
import NIOCore
import Testing
@testable import PerfAnalyzerKit

private func resolve(_ arguments: [String]) throws -> PerfAnalyzerOptions {
    try PerfAnalyzerCommand.parse(["-m", "m"] + arguments).resolve()
}

@Suite("Command line: --service-kind triton_c_api")
struct TritonCAPIOptionTests {
    @Test("the kind takes a repository and a server directory, /opt/tritonserver by default")
    func settings() throws {
        let defaults = try resolve(["--service-kind", "triton_c_api", "--model-repository", "/models"])
        #expect(defaults.tritonCAPI == .init(serverDirectory: "/opt/tritonserver", modelRepository: "/models"))
        let given = try resolve(["--service-kind=triton_c_api", "--model-repository=/models", "--triton-server-directory=/srv/triton",
                                 "-i", "grpc", "--streaming", "--async"])
        #expect(given.tritonCAPI == .init(serverDirectory: "/srv/triton", modelRepository: "/models"))
        #expect(given.streaming)
        #expect(try resolve([]).tritonCAPI == nil)
    }

    @Test("what the kind cannot honour is refused by name", arguments: [
        (["--service-kind", "triton_c_api"], "--service-kind triton_c_api: --model-repository is required"),
        (["--model-repository", "/m"], "--model-repository: applies to --service-kind triton_c_api"),
        (["--triton-server-directory", "/t"], "--triton-server-directory: applies to --service-kind triton_c_api"),
        (["--service-kind", "openai", "--model-repository", "/m"], "--model-repository: applies to --service-kind triton_c_api"),
        (["--service-kind", "tfserving"], "--service-kind tfserving: not supported: there is no TensorFlow Serving here"),
        (["--service-kind", "torchserve"], "--service-kind torchserve: not supported: there is no TorchServe here"),
        (["--service-kind", "dynamic_grpc"], "--service-kind dynamic_grpc: not supported: there is no custom gRPC service here"),
        (["--service-kind", "onnx"], "--service-kind onnx: expected triton, triton_c_api or openai"),
        (["--service-kind", "triton_c_api", "--model-repository", "/m", "-u", "h:1"], "-u: --service-kind triton_c_api runs Triton inside this process"),
        (["--service-kind", "triton_c_api", "--model-repository", "/m", "--shared-memory", "cuda"], "--shared-memory cuda: not implemented"),
        (["--service-kind", "triton_c_api", "--model-repository", "/m", "--output-tensor-format", "json"], "--output-tensor-format json:"),
        (["--service-kind", "triton_c_api", "--model-repository", "/m", "--collect-metrics"], "--collect-metrics: only with --service-kind triton"),
        (["--service-kind", "triton_c_api", "--model-repository", "/m", "--trace-rate", "5"], "--trace-level/--trace-rate/--trace-count/--log-frequency: only with --service-kind triton"),
        (["--service-kind", "triton_c_api", "--model-repository", "/m", "-i", "grpc", "--grpc-compression-algorithm", "gzip"],
         "--grpc-compression-algorithm: --service-kind triton_c_api sends nothing over gRPC"),
        (["--service-kind", "triton_c_api", "--model-repository", "/m", "--streaming", "--periodic-concurrency-range", "1:2",
          "--profile-export-file", "/tmp/never-\(UUID().uuidString).json"], "--periodic-concurrency-range: not implemented"),
    ])
    func refused(arguments: [String], message: String) {
        #expect(throws: OptionError.self) { try resolve(arguments) }
        do {
            _ = try resolve(arguments)
        } catch let error as OptionError {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("--request-parameter is taken with the kind; the C form keeps the last of a name, in order")
    func requestParameters() throws {
        let options = try resolve(["--service-kind", "triton_c_api", "--model-repository", "/m",
                                   "--request-parameter", "a:1:int", "--request-parameter", "b:x:string",
                                   "--request-parameter", "a:true:bool"])
        #expect(options.requestParameters.count == 3)
        let table = CAPIRequestParameters(options.requestParameters)
        #expect(table.parameters.map { String(cString: $0.name) } == ["b", "a"])
        guard case .string(let text) = table.parameters[0].value, case .bool(true) = table.parameters[1].value else {
            Issue.record("\(table.parameters.map(\.value))")
            return
        }
        #expect(String(cString: text) == "x")
        #expect(CAPIRequestParameters([]).parameters.isEmpty)
    }

    @Test("captured outputs decode by name and are validated as the other kinds' outputs are")
    func capturedOutputs() throws {
        for datatype in DataType.allCases {
            #expect(CAPIRequestTable.dataType(tritonCode: CAPIRequestTable.tritonDataType(datatype)) == datatype)
        }
        #expect(CAPIRequestTable.dataType(tritonCode: 0) == nil)
        // The form `capture` writes: count, then per output name, datatype, shape and bytes.
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1))
        buffer.writeInteger(UInt32(7))
        buffer.writeString("OUTPUT0")
        buffer.writeInteger(CAPIRequestTable.tritonDataType(.int32))
        buffer.writeInteger(UInt32(2))
        buffer.writeInteger(Int64(1))
        buffer.writeInteger(Int64(2))
        buffer.writeInteger(UInt64(8))
        buffer.writeBytes([1, 0, 0, 0, 5, 0, 0, 0] as [UInt8])
        let tensors = try #require(CAPIResponseOutputs.tensors(buffer))
        #expect(tensors == [.init(name: "OUTPUT0", datatype: .int32, shape: [1, 2], bytes: [1, 0, 0, 0, 5, 0, 0, 0])])
        let matching = ExpectedOutputs(steps: [0], tensors: [.init(name: "OUTPUT0", datatype: .int32, shape: [2], bytes: [1, 0, 0, 0, 5, 0, 0, 0])])
        #expect(CAPIResponseOutputs.mismatch(buffer, expected: matching) == nil)
        let other = ExpectedOutputs(steps: [0], tensors: [.init(name: "OUTPUT0", datatype: .int32, shape: [2], bytes: [1, 0, 0, 0, 6, 0, 0, 0])])
        #expect(CAPIResponseOutputs.mismatch(buffer, expected: other) == "validation failed for output 'OUTPUT0', data step 0, index 1: expected 6, received 5")
        let missing = ExpectedOutputs(steps: [0], tensors: [.init(name: "OUTPUT1", datatype: .int32, shape: [1], bytes: [0, 0, 0, 0])])
        #expect(CAPIResponseOutputs.mismatch(buffer, expected: missing) == "validation of data step 0: the response has no output 'OUTPUT1'")
        #expect(CAPIResponseOutputs.tensors(buffer.getSlice(at: 0, length: 10)!) == nil)
        // The export decodes the same form, as it decodes a response body.
        let exported = try ExportResponseOutputs.tensors(ExportBatch.Body(bytes: buffer, headerLength: nil), wire: .cAPI)
        #expect(exported.map(\.name) == ["OUTPUT0"] && exported.map(\.datatype) == [.int32] && exported.map(\.bytes) == [[1, 0, 0, 0, 5, 0, 0, 0]])
    }

    @Test("--profile-export-file is taken with the kind")
    func profileExport() throws {
        let path = "/tmp/never-\(UUID().uuidString).json"
        let options = try resolve(["--service-kind", "triton_c_api", "--model-repository", "/m", "--profile-export-file", path])
        #expect(options.profileExportPath == path)
    }

    @Test("DT_NEEDED entries are read from an ELF library; anything else has none")
    func neededLibraries() throws {
        let needed = ELFNeededLibraries.read(path: "/proc/self/exe")
        #expect(needed.contains { $0.hasPrefix("libc.so") }, "\(needed)")
        let text = FileManager.default.temporaryDirectory.appendingPathComponent("not-elf-\(UUID().uuidString)")
        try "not a library".write(to: text, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: text) }
        #expect(ELFNeededLibraries.read(path: text.path).isEmpty)
        #expect(ELFNeededLibraries.read(path: "/nonexistent").isEmpty)
    }

    @Test("a library that will not load is one line naming it and dlopen's reason")
    func unloadable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("lib"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: TritonServerError.self) { try TritonLibraryLoader.load(serverDirectory: directory.path) }
        try "garbage".write(to: directory.appendingPathComponent("lib/libtritonserver.so"), atomically: true, encoding: .utf8)
        do {
            _ = try TritonLibraryLoader.load(serverDirectory: directory.path)
            Issue.record("a garbage library loaded")
        } catch {
            #expect(error.description.hasPrefix("--triton-server-directory: cannot load \(directory.path)/lib/libtritonserver.so: "))
            #expect(!error.description.contains("\n"))
        }
    }
}
