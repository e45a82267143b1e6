/// Why a simulator could not start.
public enum SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    case alreadyStarted
    case addressInUse(host: String, port: Int)
    case cannotListen(host: String, port: Int, reason: String)
    case cannotOpenRecordFile(path: String, reason: String)
    case invalidConfiguration(String)
    /// A TLS file is missing, unreadable or not what its option needs.
    case invalidTLSFile(TLSSettings.File, path: String, reason: String)

    public var description: String {
        switch self {
        case .alreadyStarted:
            return "the simulator is already running"
        case .addressInUse(let host, let port):
            return "cannot listen on \(host):\(port): the address is already in use"
        case .cannotListen(let host, let port, let reason):
            return "cannot listen on \(host):\(port): \(reason)"
        case .cannotOpenRecordFile(let path, let reason):
            return "cannot open record file '\(path)': \(reason)"
        case .invalidConfiguration(let reason):
            return "invalid configuration: \(reason)"
        case .invalidTLSFile(let file, let path, let reason):
            return "\(file.rawValue) '\(path)': \(reason)"
        }
    }
}
