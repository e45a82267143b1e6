#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A Triton C API call that failed: its message and code name, as one line.
struct TritonServerError: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ text: String) {
        description = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// The functions of libtritonserver this kind calls, resolved with dlsym once the library is
/// open (see `TritonLibraryLoader`), so the package has no link-time dependency on Triton.
///
/// The C types map as follows: every `struct TRITONSERVER_X*` is an `OpaquePointer`, C enums
/// are `UInt32` (their storage on the platforms Triton ships for), `size_t` is `Int`.
/// Sendable: the table never changes once made and Triton's functions may be called from any thread.
final class TritonServerAPI: Sendable {
    typealias ErrorPointer = OpaquePointer?

    typealias ApiVersion = @convention(c) (UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>) -> ErrorPointer
    typealias ErrorCodeString = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
    typealias ErrorMessage = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
    typealias ErrorDelete = @convention(c) (OpaquePointer?) -> Void

    typealias OptionsNew = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> ErrorPointer
    typealias OptionsDelete = @convention(c) (OpaquePointer?) -> ErrorPointer
    typealias OptionsSetString = @convention(c) (OpaquePointer?, UnsafePointer<CChar>) -> ErrorPointer
    typealias OptionsSetBool = @convention(c) (OpaquePointer?, Bool) -> ErrorPointer
    typealias OptionsSetInt = @convention(c) (OpaquePointer?, Int32) -> ErrorPointer
    typealias OptionsSetUInt = @convention(c) (OpaquePointer?, UInt32) -> ErrorPointer
    typealias OptionsSetDouble = @convention(c) (OpaquePointer?, Double) -> ErrorPointer

    typealias ServerNew = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?) -> ErrorPointer
    typealias ServerCall = @convention(c) (OpaquePointer?) -> ErrorPointer
    typealias ServerFlag = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Bool>) -> ErrorPointer
    typealias ModelIsReady = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, Int64, UnsafeMutablePointer<Bool>) -> ErrorPointer
    typealias ServerMetadata = @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>) -> ErrorPointer
    typealias ModelMessage = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, Int64, UnsafeMutablePointer<OpaquePointer?>) -> ErrorPointer
    typealias ModelConfig = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, Int64, UInt32, UnsafeMutablePointer<OpaquePointer?>) -> ErrorPointer
    typealias MessageToJSON = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafeMutablePointer<Int>) -> ErrorPointer
    typealias MessageDelete = @convention(c) (OpaquePointer?) -> ErrorPointer

    typealias AllocFn = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UInt32, Int64, UnsafeMutableRawPointer?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                        UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<Int64>?) -> ErrorPointer
    typealias ReleaseFn = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int, UInt32, Int64) -> ErrorPointer
    typealias AllocatorNew = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, AllocFn, ReleaseFn, UnsafeMutableRawPointer?) -> ErrorPointer
    typealias AllocatorDelete = @convention(c) (OpaquePointer?) -> ErrorPointer

    typealias RequestReleaseFn = @convention(c) (OpaquePointer?, UInt32, UnsafeMutableRawPointer?) -> Void
    typealias ResponseCompleteFn = @convention(c) (OpaquePointer?, UInt32, UnsafeMutableRawPointer?) -> Void
    typealias RequestNew = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>, Int64) -> ErrorPointer
    typealias RequestDelete = @convention(c) (OpaquePointer?) -> ErrorPointer
    typealias RequestAddInput = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, UInt32, UnsafePointer<Int64>?, UInt64) -> ErrorPointer
    typealias RequestAppendInputData = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, UnsafeRawPointer?, Int, UInt32, Int64) -> ErrorPointer
    typealias RequestSetUInt64 = @convention(c) (OpaquePointer?, UInt64) -> ErrorPointer
    typealias RequestSetUInt32 = @convention(c) (OpaquePointer?, UInt32) -> ErrorPointer
    typealias RequestSetStringParameter = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, UnsafePointer<CChar>) -> ErrorPointer
    typealias RequestSetIntParameter = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, Int64) -> ErrorPointer
    typealias RequestSetBoolParameter = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, Bool) -> ErrorPointer
    typealias RequestSetReleaseCallback = @convention(c) (OpaquePointer?, RequestReleaseFn, UnsafeMutableRawPointer?) -> ErrorPointer
    typealias RequestSetResponseCallback = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?,
                                                           ResponseCompleteFn, UnsafeMutableRawPointer?) -> ErrorPointer
    typealias InferAsync = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> ErrorPointer
    typealias ResponseError = @convention(c) (OpaquePointer?) -> ErrorPointer
    typealias ResponseDelete = @convention(c) (OpaquePointer?) -> ErrorPointer
    typealias ResponseOutputCount = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> ErrorPointer
    typealias ResponseOutput = @convention(c) (OpaquePointer?, UInt32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafeMutablePointer<UInt32>,
                                               UnsafeMutablePointer<UnsafePointer<Int64>?>, UnsafeMutablePointer<UInt64>,
                                               UnsafeMutablePointer<UnsafeRawPointer?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<UInt32>,
                                               UnsafeMutablePointer<Int64>, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> ErrorPointer

    // Values of Triton's C enums and flags (tritonserver.h, API 1.x).
    static let memoryCPU: UInt32 = 0
    static let memoryGPU: UInt32 = 2
    static let flagSequenceStart: UInt32 = 1
    static let flagSequenceEnd: UInt32 = 2
    static let responseCompleteFinal: UInt32 = 1
    static let modelControlNone: UInt32 = 0
    /// The API major version this code was written against; another major is refused.
    static let apiMajor: UInt32 = 1

    let apiVersion: ApiVersion
    let errorCodeString: ErrorCodeString
    let errorMessage: ErrorMessage
    let errorDelete: ErrorDelete
    let optionsNew: OptionsNew
    let optionsDelete: OptionsDelete
    let setModelRepositoryPath: OptionsSetString
    let setBackendDirectory: OptionsSetString
    let setRepoAgentDirectory: OptionsSetString
    let setCacheDirectory: OptionsSetString
    let setModelControlMode: OptionsSetUInt
    let setStrictModelConfig: OptionsSetBool
    let setLogInfo: OptionsSetBool
    let setLogWarn: OptionsSetBool
    let setLogError: OptionsSetBool
    let setLogVerbose: OptionsSetInt
    let setMetrics: OptionsSetBool
    let setExitTimeout: OptionsSetUInt
    let setMinSupportedComputeCapability: OptionsSetDouble
    let serverNew: ServerNew
    let serverStop: ServerCall
    let serverDelete: ServerCall
    let serverIsLive: ServerFlag
    let serverIsReady: ServerFlag
    let modelIsReady: ModelIsReady
    let serverMetadata: ServerMetadata
    let modelMetadata: ModelMessage
    let modelStatistics: ModelMessage
    let modelConfig: ModelConfig
    let messageToJSON: MessageToJSON
    let messageDelete: MessageDelete
    let allocatorNew: AllocatorNew
    let allocatorDelete: AllocatorDelete
    let requestNew: RequestNew
    let requestDelete: RequestDelete
    let requestAddInput: RequestAddInput
    let requestAppendInputData: RequestAppendInputData
    let requestSetCorrelationID: RequestSetUInt64
    let requestSetFlags: RequestSetUInt32
    let requestSetStringParameter: RequestSetStringParameter
    let requestSetIntParameter: RequestSetIntParameter
    let requestSetBoolParameter: RequestSetBoolParameter
    let requestSetReleaseCallback: RequestSetReleaseCallback
    let requestSetResponseCallback: RequestSetResponseCallback
    let inferAsync: InferAsync
    let responseError: ResponseError
    let responseDelete: ResponseDelete
    let responseOutputCount: ResponseOutputCount
    let responseOutput: ResponseOutput

    /// Resolves every function up front, so a library that lacks one fails before the server starts.
    init(handle: UnsafeMutableRawPointer, path: String) throws(TritonServerError) {
        func symbol<F>(_ name: String, as type: F.Type = F.self) throws(TritonServerError) -> F {
            guard let address = dlsym(handle, name) else {
                throw TritonServerError("\(path) has no function \(name) (not a Triton server library of API version \(Self.apiMajor).x?)")
            }
            return unsafeBitCast(address, to: type)
        }
        apiVersion = try symbol("TRITONSERVER_ApiVersion")
        errorCodeString = try symbol("TRITONSERVER_ErrorCodeString")
        errorMessage = try symbol("TRITONSERVER_ErrorMessage")
        errorDelete = try symbol("TRITONSERVER_ErrorDelete")
        optionsNew = try symbol("TRITONSERVER_ServerOptionsNew")
        optionsDelete = try symbol("TRITONSERVER_ServerOptionsDelete")
        setModelRepositoryPath = try symbol("TRITONSERVER_ServerOptionsSetModelRepositoryPath")
        setBackendDirectory = try symbol("TRITONSERVER_ServerOptionsSetBackendDirectory")
        setRepoAgentDirectory = try symbol("TRITONSERVER_ServerOptionsSetRepoAgentDirectory")
        setCacheDirectory = try symbol("TRITONSERVER_ServerOptionsSetCacheDirectory")
        setModelControlMode = try symbol("TRITONSERVER_ServerOptionsSetModelControlMode")
        setStrictModelConfig = try symbol("TRITONSERVER_ServerOptionsSetStrictModelConfig")
        setLogInfo = try symbol("TRITONSERVER_ServerOptionsSetLogInfo")
        setLogWarn = try symbol("TRITONSERVER_ServerOptionsSetLogWarn")
        setLogError = try symbol("TRITONSERVER_ServerOptionsSetLogError")
        setLogVerbose = try symbol("TRITONSERVER_ServerOptionsSetLogVerbose")
        setMetrics = try symbol("TRITONSERVER_ServerOptionsSetMetrics")
        setExitTimeout = try symbol("TRITONSERVER_ServerOptionsSetExitTimeout")
        setMinSupportedComputeCapability = try symbol("TRITONSERVER_ServerOptionsSetMinSupportedComputeCapability")
        serverNew = try symbol("TRITONSERVER_ServerNew")
        serverStop = try symbol("TRITONSERVER_ServerStop")
        serverDelete = try symbol("TRITONSERVER_ServerDelete")
        serverIsLive = try symbol("TRITONSERVER_ServerIsLive")
        serverIsReady = try symbol("TRITONSERVER_ServerIsReady")
        modelIsReady = try symbol("TRITONSERVER_ServerModelIsReady")
        serverMetadata = try symbol("TRITONSERVER_ServerMetadata")
        modelMetadata = try symbol("TRITONSERVER_ServerModelMetadata")
        modelStatistics = try symbol("TRITONSERVER_ServerModelStatistics")
        modelConfig = try symbol("TRITONSERVER_ServerModelConfig")
        messageToJSON = try symbol("TRITONSERVER_MessageSerializeToJson")
        messageDelete = try symbol("TRITONSERVER_MessageDelete")
        allocatorNew = try symbol("TRITONSERVER_ResponseAllocatorNew")
        allocatorDelete = try symbol("TRITONSERVER_ResponseAllocatorDelete")
        requestNew = try symbol("TRITONSERVER_InferenceRequestNew")
        requestDelete = try symbol("TRITONSERVER_InferenceRequestDelete")
        requestAddInput = try symbol("TRITONSERVER_InferenceRequestAddInput")
        requestAppendInputData = try symbol("TRITONSERVER_InferenceRequestAppendInputData")
        requestSetCorrelationID = try symbol("TRITONSERVER_InferenceRequestSetCorrelationId")
        requestSetFlags = try symbol("TRITONSERVER_InferenceRequestSetFlags")
        requestSetStringParameter = try symbol("TRITONSERVER_InferenceRequestSetStringParameter")
        requestSetIntParameter = try symbol("TRITONSERVER_InferenceRequestSetIntParameter")
        requestSetBoolParameter = try symbol("TRITONSERVER_InferenceRequestSetBoolParameter")
        requestSetReleaseCallback = try symbol("TRITONSERVER_InferenceRequestSetReleaseCallback")
        requestSetResponseCallback = try symbol("TRITONSERVER_InferenceRequestSetResponseCallback")
        inferAsync = try symbol("TRITONSERVER_ServerInferAsync")
        responseError = try symbol("TRITONSERVER_InferenceResponseError")
        responseDelete = try symbol("TRITONSERVER_InferenceResponseDelete")
        responseOutputCount = try symbol("TRITONSERVER_InferenceResponseOutputCount")
        responseOutput = try symbol("TRITONSERVER_InferenceResponseOutput")
    }

    /// The text of a Triton error ("CODE: message"), which the caller still owns.
    func describe(_ error: OpaquePointer) -> String {
        let code = errorCodeString(error).map { String(cString: $0) } ?? "UNKNOWN"
        let message = errorMessage(error).map { String(cString: $0) } ?? "(no message)"
        return "\(message) (\(code))"
    }

    /// Throws the error a call returned (and frees it); `doing` says what was being done.
    func check(_ error: ErrorPointer, _ doing: @autoclosure () -> String) throws(TritonServerError) {
        guard let error else { return }
        let text = describe(error)
        errorDelete(error)
        throw TritonServerError("\(doing()): \(text)")
    }
}
