import NIOCore

/// A complete inference request in its wire form, built once and written as is:
/// HTTP/1.1 head and body, or a serialized gRPC `ModelInferRequest`.
///
/// A run may hold millions of these, most of them alike but for their bytes, so everything else
/// lives in a box that requests of the same layout share: a request is its bytes and one reference.
public struct PreparedRequest: Sendable {
    public var bytes: ByteBuffer
    private var details: Details

    /// Never changed once made: a setter puts a new one in place, so copies of a request stay apart.
    private final class Details: Sendable {
        let batchSize: Int
        let jsonHeader: String
        let expected: ExpectedOutputs?
        let template: HTTPRequestTemplate?

        init(batchSize: Int, jsonHeader: String, expected: ExpectedOutputs?, template: HTTPRequestTemplate?) {
            self.batchSize = batchSize
            self.jsonHeader = jsonHeader
            self.expected = expected
            self.template = template
        }
    }

    init(bytes: ByteBuffer, batchSize: Int, jsonHeader: String, template: HTTPRequestTemplate? = nil) {
        self.bytes = bytes
        details = Details(batchSize: batchSize, jsonHeader: jsonHeader, expected: nil, template: template)
    }

    /// Number of inferences the request carries (its batch size).
    public var batchSize: Int {
        get { details.batchSize }
        set { details = Details(batchSize: newValue, jsonHeader: jsonHeader, expected: expected, template: template) }
    }

    /// The request without its tensor bytes, as text, for `-v -v`.
    public var jsonHeader: String {
        get { details.jsonHeader }
        set { details = Details(batchSize: batchSize, jsonHeader: newValue, expected: expected, template: template) }
    }

    /// What the response must hold, when the input data has validation data.
    public var expected: ExpectedOutputs? {
        get { details.expected }
        set { details = Details(batchSize: batchSize, jsonHeader: jsonHeader, expected: newValue, template: template) }
    }

    /// HTTP requests to a sequence model: the request in pieces, to add the sequence parameters.
    var template: HTTPRequestTemplate? {
        get { details.template }
        set { details = Details(batchSize: batchSize, jsonHeader: jsonHeader, expected: expected, template: newValue) }
    }
}
