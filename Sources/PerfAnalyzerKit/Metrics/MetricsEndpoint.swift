/// Where a server's Prometheus metrics are read: `--metrics-url`, or perf_analyzer's default,
/// the host of `-u` on Triton's metrics port.
public struct MetricsEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The request target, `/metrics` unless the URL named another.
    public var path: String

    /// Triton's default metrics port.
    public static let tritonPort = 8002

    public init(host: String, port: Int, path: String = "/metrics") {
        self.host = host
        self.port = port
        self.path = path
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// `host:port/path`, with or without `http://`. Without a path, `/metrics`; without a port,
    /// 80, as curl (which perf_analyzer hands the URL to) would take it.
    public init(parsing text: String) throws(ParseError) {
        var rest = Substring(text)
        if rest.lowercased().hasPrefix("https://") {
            throw ParseError(description: "--metrics-url \(text): https is not supported (Triton serves its metrics over plain HTTP)")
        }
        if rest.lowercased().hasPrefix("http://") { rest = rest.dropFirst(7) }
        var path = "/metrics"
        if let slash = rest.firstIndex(of: "/") {
            let given = rest[slash...]
            guard !given.contains(where: { $0 == "#" || $0 == " " }) else {
                throw ParseError(description: "--metrics-url \(text): the path '\(given)' may not hold '#' or spaces")
            }
            if given != "/" { path = String(given) }
            rest = rest[..<slash]
        }
        let authority: ServerAddress
        do {
            authority = try ServerAddress(parsing: String(rest), defaultPort: 80)
        } catch {
            throw ParseError(description: "--metrics-url \(text): expected host:port/path or http://host:port/path")
        }
        self.init(host: authority.host, port: authority.port, path: path)
    }

    /// perf_analyzer's default: the host of `-u`, port 8002, `/metrics`. A `-u` that does not
    /// parse is refused later by the run itself; the host is then irrelevant.
    public static func defaultFor(serverURL: String) -> MetricsEndpoint {
        let host = (try? ServerAddress(parsing: serverURL, defaultPort: 8000))?.host ?? "localhost"
        return MetricsEndpoint(host: host, port: tritonPort)
    }

    /// For the HTTP client: no path prefix, the path is the request target.
    var address: ServerAddress { ServerAddress(host: host, port: port) }

    public var description: String { "http://\(address.hostHeader)\(path)" }
}
