import Foundation

/// A profile export as `perf-analyzer report` reads it: perf_analyzer's `--profile-export-file`
/// layout, ours or perf_analyzer's own. Only what the report draws is decoded; the requests'
/// inputs and the outputs' tensors are skipped.
struct ProfileExportDocument: Decodable {
    struct Experiment: Decodable {
        struct Mode: Decodable {
            var mode: String
            var value: Double
        }
        var experiment: Mode
        var requests: [Request]
        var window_boundaries: [UInt64]
        /// Ours, after perf_analyzer's fields; perf_analyzer's exports have none.
        var client_health: ClientHealthFields?
    }

    /// The figures a run judged its client's health on (the verdict follows from them again).
    struct ClientHealthFields: Decodable {
        var cores: Int
        var cpu_utilization: Double?
        var run_queue_wait: Double?
        var steal: Double?
        var send_lag_p90_ns: UInt64?
        var timer_floor_p99_ns: UInt64?

        var health: ClientHealth {
            ClientHealth(cpuUtilization: cpu_utilization, cores: cores, stealFraction: steal, runQueueWaitFraction: run_queue_wait,
                         sendLagP90Ns: send_lag_p90_ns, timerFloor: timer_floor_p99_ns.map { TimerFloor(p50Ns: 0, p99Ns: $0) })
        }
    }

    struct Request: Decodable {
        var timestamp: UInt64
        var sequence_id: UInt64?
        var response_timestamps: [UInt64]
        var response_outputs: [ResponseOutput]?
    }

    /// An OpenAI answer's event text; Triton outputs are tensors, of which nothing is read.
    struct ResponseOutput: Decodable {
        var response: String?

        init(from decoder: any Decoder) throws {
            let container = try? decoder.container(keyedBy: Key.self)
            response = try? container?.decodeIfPresent(String.self, forKey: .response)
        }

        private enum Key: String, CodingKey { case response }
    }

    var experiments: [Experiment]
    var version: String?
    var service_kind: String?
    var endpoint: String?

    /// Why a file is not a readable export, in one line naming the file and the JSON path.
    struct ReadFailure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws(ReadFailure) -> ProfileExportDocument {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReadFailure(description: "\(path): no such file (expected a profile export written by --profile-export-file)")
        }
        guard !isDirectory.boolValue else { throw ReadFailure(description: "\(path): is a directory; name a profile export file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadFailure(description: "\(path): cannot be read")
        }
        do {
            return try JSONDecoder().decode(ProfileExportDocument.self, from: data)
        } catch let error as DecodingError {
            throw ReadFailure(description: "\(path): not a profile export: \(describe(error))")
        } catch {
            throw ReadFailure(description: "\(path): not a profile export: \(error.localizedDescription)")
        }
    }

    /// "at experiments[0].requests[2].timestamp: expected a number, found a string", or what the JSON parser said.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.reduce("") { text, key in
                key.intValue.map { "\(text)[\($0)]" } ?? (text.isEmpty ? key.stringValue : "\(text).\(key.stringValue)")
            }
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "at \(path(context.codingPath)): expected a field \"\(key.stringValue)\", found none"
        case .typeMismatch(let type, let context):
            return "at \(path(context.codingPath)): expected \(expected(type)), found something else"
        case .valueNotFound(let type, let context):
            return "at \(path(context.codingPath)): expected \(expected(type)), found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let reason = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "expected JSON, found text the JSON parser refused\(reason.map { " (\($0))" } ?? "")"
            }
            return "at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is UInt64.Type, is Double.Type, is Int.Type: return "a number"
        case is [Any].Type: return "an array"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array") ? "an array" : (name.hasPrefix("Dictionary") ? "an object" : "an object")
        }
    }
}
