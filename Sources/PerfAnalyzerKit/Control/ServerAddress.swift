import Foundation

/// `-u host:port[/path]` (an `http://` or `https://` prefix is accepted), split for connecting.
/// A path is the prefix of every HTTP endpoint, as behind a proxy that routes by path.
public struct ServerAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Whether the URL said `https://`.
    public var usesTLS: Bool = false
    /// What comes before `/v2/...` in every HTTP request target: empty, or a path such as `/serving`.
    public var pathPrefix: String = ""

    public init(host: String, port: Int, usesTLS: Bool = false, pathPrefix: String = "") {
        self.host = host
        self.port = port
        self.usesTLS = usesTLS
        self.pathPrefix = pathPrefix
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(parsing url: String, defaultPort: Int) throws(ParseError) {
        var rest = Substring(url)
        if rest.lowercased().hasPrefix("http://") { rest = rest.dropFirst(7) }
        if rest.lowercased().hasPrefix("https://") {
            rest = rest.dropFirst(8)
            usesTLS = true
        }
        if let slash = rest.firstIndex(of: "/") {
            var path = rest[slash...]
            while path.hasSuffix("/") { path = path.dropLast() }
            guard !path.contains(where: { $0 == "?" || $0 == "#" || $0 == " " }) else {
                throw ParseError(description: "-u \(url): the path '\(path)' may not hold '?', '#' or spaces")
            }
            pathPrefix = String(path)
            rest = rest[..<slash]
        }
        guard !rest.isEmpty else { throw ParseError(description: "-u \(url): expected host:port") }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ParseError(description: "-u \(url): unclosed '[' in an IPv6 address") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.isEmpty {
                port = defaultPort
            } else {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()), (1...65535).contains(number) else {
                    throw ParseError(description: "-u \(url): expected a port number in 1...65535 after the host")
                }
                port = number
            }
            return
        }
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw ParseError(description: "-u \(url): expected a port number in 1...65535 after the host")
            }
            port = number
        } else {
            host = String(rest)
            port = defaultPort
        }
        guard !host.isEmpty else { throw ParseError(description: "-u \(url): the host is empty") }
    }

    /// Whether the host is an IPv4 or IPv6 literal rather than a name.
    public var isIPAddress: Bool {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        return inet_pton(AF_INET, host, &ipv4) == 1 || inet_pton(AF_INET6, host, &ipv6) == 1
    }

    /// Whether the host is this machine's loopback: `localhost`, 127.0.0.0/8 or `::1`.
    public var isLoopback: Bool {
        if host.lowercased() == "localhost" { return true }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 { return UInt32(bigEndian: ipv4.s_addr) >> 24 == 127 }
        var ipv6 = in6_addr()
        guard inet_pton(AF_INET6, host, &ipv6) == 1 else { return false }
        return withUnsafeBytes(of: &ipv6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
    }

    /// The value of the Host header.
    public var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    public var description: String { hostHeader }
}
