/// One sample line of the Prometheus text exposition format.
public struct PrometheusSample: Sendable, Equatable {
    public var name: String
    /// Label names and their unescaped values, whatever order the server wrote them in.
    public var labels: [String: String]
    public var value: Double
    /// Milliseconds since the epoch, when the line carried a timestamp.
    public var timestampMs: Int64?

    public init(name: String, labels: [String: String] = [:], value: Double, timestampMs: Int64? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestampMs = timestampMs
    }
}

/// A line that is not valid Prometheus text: its number (from 1) and what is wrong.
public struct PrometheusTextError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Reads the Prometheus text format (version 0.0.4, what Triton's `/metrics` serves) by its
/// grammar rather than by pattern: perf_analyzer finds each metric with a regular expression
/// that expects `gpu_uuid` as the only label, so a series with a second label, or with its
/// labels written in another order, is silently missed. Comment lines (`# HELP`, `# TYPE` and
/// any other) carry nothing a sample needs and are skipped.
public enum PrometheusText {
    public static func parse(_ text: String) throws(PrometheusTextError) -> [PrometheusSample] {
        let bytes = Array(text.utf8)
        var samples: [PrometheusSample] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != Byte.newline { end += 1 }
            // A server that ends lines with CRLF is still read.
            let stop = end > start && bytes[end - 1] == Byte.carriageReturn ? end - 1 : end
            do {
                var cursor = LineCursor(bytes: bytes, index: start, end: stop)
                if let sample = try cursor.sample() { samples.append(sample) }
            } catch {
                throw PrometheusTextError(line: lineNumber, reason: error.reason)
            }
            start = end + 1
        }
        return samples
    }
}

private enum Byte {
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let hash = UInt8(ascii: "#")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let comma = UInt8(ascii: ",")
    static let equals = UInt8(ascii: "=")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}

private struct LineError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A position in one line of the text.
private struct LineCursor {
    let bytes: [UInt8]
    var index: Int
    let end: Int

    var atEnd: Bool { index >= end }
    var current: UInt8? { index < end ? bytes[index] : nil }

    /// Skips spaces and tabs; returns how many.
    @discardableResult
    mutating func skipBlanks() -> Int {
        let from = index
        while let byte = current, byte == Byte.space || byte == Byte.tab { index += 1 }
        return index - from
    }

    /// The line's sample, or nil for a blank or comment line.
    mutating func sample() throws(LineError) -> PrometheusSample? {
        skipBlanks()
        guard let first = current, first != Byte.hash else { return nil }
        let name = try identifier(first: { Byte.isLetter($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") },
                                  rest: { Byte.isLetter($0) || Byte.isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") },
                                  what: "a metric name")
        let blanksAfterName = skipBlanks()
        var labels: [String: String] = [:]
        if current == Byte.openBrace {
            index += 1
            labels = try labelSet(metric: name)
            skipBlanks()
        } else if blanksAfterName == 0, let byte = current {
            throw LineError("unexpected '\(String(decoding: [byte], as: UTF8.self))' after the metric name \(name)")
        }
        guard !atEnd else { throw LineError("\(name) has no value") }
        let valueText = token()
        guard let value = Self.number(valueText) else { throw LineError("\(name): '\(valueText)' is not a number") }
        var timestamp: Int64? = nil
        if skipBlanks() > 0, !atEnd {
            let text = token()
            guard let milliseconds = Int64(text) else { throw LineError("\(name): the timestamp '\(text)' is not an integer") }
            timestamp = milliseconds
            skipBlanks()
        }
        guard atEnd else { throw LineError("\(name): unexpected text after the value") }
        return PrometheusSample(name: name, labels: labels, value: value, timestampMs: timestamp)
    }

    /// `name="value", ...}` after the opening brace; a trailing comma is allowed.
    mutating func labelSet(metric: String) throws(LineError) -> [String: String] {
        var labels: [String: String] = [:]
        while true {
            skipBlanks()
            if current == Byte.closeBrace {
                index += 1
                return labels
            }
            let label = try identifier(first: { Byte.isLetter($0) || $0 == UInt8(ascii: "_") },
                                       rest: { Byte.isLetter($0) || Byte.isDigit($0) || $0 == UInt8(ascii: "_") },
                                       what: "a label name in \(metric)")
            skipBlanks()
            guard current == Byte.equals else { throw LineError("\(metric): expected '=' after the label \(label)") }
            index += 1
            skipBlanks()
            let value = try quoted(metric: metric, label: label)
            guard labels.updateValue(value, forKey: label) == nil else {
                throw LineError("\(metric): the label \(label) is given twice")
            }
            skipBlanks()
            if current == Byte.comma {
                index += 1
            } else if current != Byte.closeBrace {
                throw LineError("\(metric): expected ',' or '}' after the value of \(label)")
            }
        }
    }

    /// A double-quoted label value, with `\\`, `\"` and `\n` unescaped.
    mutating func quoted(metric: String, label: String) throws(LineError) -> String {
        guard current == Byte.quote else { throw LineError("\(metric): the value of \(label) is not quoted") }
        index += 1
        var value: [UInt8] = []
        while let byte = current {
            index += 1
            switch byte {
            case Byte.quote:
                return String(decoding: value, as: UTF8.self)
            case Byte.backslash:
                switch current {
                case Byte.backslash: value.append(Byte.backslash)
                case Byte.quote: value.append(Byte.quote)
                case UInt8(ascii: "n"): value.append(Byte.newline)
                default: throw LineError("\(metric): the value of \(label) has an escape other than \\\\, \\\" or \\n")
                }
                index += 1
            default:
                value.append(byte)
            }
        }
        throw LineError("\(metric): the value of \(label) has no closing quote")
    }

    mutating func identifier(first: (UInt8) -> Bool, rest: (UInt8) -> Bool, what: String) throws(LineError) -> String {
        guard let byte = current, first(byte) else { throw LineError("expected \(what)") }
        let from = index
        index += 1
        while let byte = current, rest(byte) { index += 1 }
        return String(decoding: bytes[from..<index], as: UTF8.self)
    }

    /// Everything up to the next blank or the end of the line.
    mutating func token() -> String {
        let from = index
        while let byte = current, byte != Byte.space, byte != Byte.tab { index += 1 }
        return String(decoding: bytes[from..<index], as: UTF8.self)
    }

    /// A Go float as the format writes it: decimal or exponent notation, `NaN`, `+Inf`, `-Inf`.
    static func number(_ text: String) -> Double? {
        switch text.lowercased() {
        case "nan": return .nan
        case "+inf", "inf": return .infinity
        case "-inf": return -.infinity
        default: break
        }
        // Only decimal digits, signs, a point and an exponent: not the hex or "infinity" spellings
        // Swift's own conversion would also take.
        guard !text.isEmpty, text.utf8.allSatisfy({ Byte.isDigit($0) || "+-.eE".utf8.contains($0) }) else { return nil }
        return Double(text)
    }
}
