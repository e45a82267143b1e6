import Foundation
import Testing
@testable import PerfAnalyzerKit

/// `-u host:port/prefix`: perf_analyzer puts the path before every HTTP endpoint, as behind a
/// reverse proxy that routes by path. A real nginx (installed by scripts/test.sh) serves
/// kserve-sim under `/serving/`; anything outside that path is a 404.
extension EndToEnd {
@Suite("-u with a path")
struct URLPrefixEndToEndTests {
    /// nginx on a free loopback port, forwarding `/serving/...` to `upstream` without the prefix.
    final class PathProxy {
        let port: Int
        let directory: URL
        let process = Process()

        init(upstreamPort: Int) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("spa-nginx-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            port = try Self.freePort()
            let config = """
            worker_processes 1;
            pid \(directory.path)/nginx.pid;
            error_log \(directory.path)/error.log warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(directory.path)/body;
                proxy_temp_path \(directory.path)/proxy;
                fastcgi_temp_path \(directory.path)/fastcgi;
                uwsgi_temp_path \(directory.path)/uwsgi;
                scgi_temp_path \(directory.path)/scgi;
                upstream sim { server 127.0.0.1:\(upstreamPort); keepalive 16; }
                server {
                    listen 127.0.0.1:\(port);
                    location /serving/ {
                        proxy_pass http://sim/;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                    }
                    location / { return 404 '{"error":"outside /serving/"}'; }
                }
            }
            """
            try config.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            process.arguments = ["-p", directory.path, "-c", directory.appendingPathComponent("nginx.conf").path, "-g", "daemon off;"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Ready once it accepts a connection.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, !Self.accepts(port: port) { Thread.sleep(forTimeInterval: 0.05) }
        }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            try? FileManager.default.removeItem(at: directory)
        }

        deinit { stop() }

        static func freePort() throws -> Int {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        static func accepts(port: Int) -> Bool {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }
    }

    @Test("the path prefixes every HTTP endpoint: the run goes through the proxy and the server counts it")
    func prefixReachesServer() async throws {
        let sim = try SimulatorProcess()
        let proxy = try PathProxy(upstreamPort: sim.port)
        defer { proxy.stop() }
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", "127.0.0.1:\(proxy.port)/serving",
                                                                           "--request-count", "40"], timeout: 120)
        #expect(result.status == ExitStatus.success.rawValue, "\(result.stderr)")
        #expect(try await sim.statistics(model: "identity_fp32").inference_stats.success.count.value == 40)
        // Without the path the proxy answers 404: the prefix is what made the run reach the server.
        let without = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-u", "127.0.0.1:\(proxy.port)",
                                                                            "--request-count", "40"], timeout: 60)
        #expect(without.status == ExitStatus.failure.rawValue)
        #expect(without.stderr.contains("GET /v2/health/ready did not answer 200"), "\(without.stderr)")
    }

    @Test("a gRPC address with a path is refused in one line")
    func grpcPathRefused() async throws {
        let sim = try SimulatorProcess()
        let result = try await CommandRunner.run(BuiltTools.perfAnalyzer, ["-m", "identity_fp32", "-i", "grpc", "-u", "\(sim.grpcURL)/serving"],
                                                 timeout: 60)
        #expect(result.status == ExitStatus.failure.rawValue)
        #expect(result.stderr == "error: -u \(sim.grpcURL)/serving: a gRPC address is host:port; gRPC has no path to put '/serving' in\n")
    }
}
}
