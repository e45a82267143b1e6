import Foundation
import KServeProtocol

/// One line of the simulator's `--record` file, as the tests read it back.
struct RecordedLine: Decodable {
    struct Input: Decodable {
        var name: String
        var datatype: String
        var shape: [Int64]
        var data: [JSONValue]
    }

    var model: String
    var id: String?
    var parameters: [String: JSONValue]
    var inputs: [Input]
    var headers: [String: String]
    /// Present only for sequence models.
    var sequenceInFlight: Int?
    /// The fault mode the request met; absent for requests answered normally.
    var fault: String?

    enum CodingKeys: String, CodingKey {
        case model, id, parameters, inputs, headers, fault
        case sequenceInFlight = "sequence_in_flight"
    }

    /// Every line of the file at `path`; none when it does not exist yet.
    static func read(_ path: String) throws -> [RecordedLine] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(RecordedLine.self, from: Data($0.utf8)) }
    }
}
