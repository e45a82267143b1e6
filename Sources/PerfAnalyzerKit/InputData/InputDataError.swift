/// A problem with user-supplied input data, as one line that names the file, where in it, and what was wrong.
public struct InputDataError: Error, CustomStringConvertible, Equatable {
    public var description: String

    public init(_ description: String) {
        // Keys and strings quoted from the input may hold line breaks; the report must stay one line.
        var line = ""
        line.reserveCapacity(description.utf8.count)
        for character in description.unicodeScalars {
            switch character {
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            default:
                if character.value < 0x20 || character.value == 0x7F {
                    line += "\\u{\(String(character.value, radix: 16))}"
                } else {
                    line.unicodeScalars.append(character)
                }
            }
        }
        self.description = line
    }
}

/// One step of a JSON path, for messages such as `data[1][2].INPUT.content[5]`.
enum JSONPathComponent: Equatable {
    case key(String)
    case index(Int)

    static func render(_ components: [JSONPathComponent]) -> String {
        var text = ""
        for component in components {
            switch component {
            case .key(let name): text += text.isEmpty ? name : "." + name
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}

/// A failure found while walking a JSON document. It travels up the parser, which adds the path
/// components it knows as it unwinds, and becomes an `InputDataError` once the file name is known.
struct JSONLoadFailure: Error {
    enum Kind { case syntax, content }
    var kind: Kind
    /// Byte offset of the offending text, for line and column of syntax errors.
    var offset: Int
    var message: String
    /// Innermost component first: appended while unwinding, reversed when rendered.
    var reversedPath: [JSONPathComponent] = []

    static func syntax(_ message: String, at offset: Int) -> JSONLoadFailure {
        JSONLoadFailure(kind: .syntax, offset: offset, message: message)
    }

    static func content(_ message: String, at offset: Int) -> JSONLoadFailure {
        JSONLoadFailure(kind: .content, offset: offset, message: message)
    }

    func inside(_ component: JSONPathComponent) -> JSONLoadFailure {
        var copy = self
        copy.reversedPath.append(component)
        return copy
    }

    /// The one-line report. Line and column are computed here, only when needed, from the byte offset.
    func report(file: String, bytes: UnsafeBufferPointer<UInt8>) -> InputDataError {
        switch kind {
        case .syntax:
            let (line, column) = Self.lineAndColumn(of: offset, in: bytes)
            return InputDataError("\(file): invalid JSON at line \(line), column \(column): \(message)")
        case .content:
            let path = JSONPathComponent.render(reversedPath.reversed())
            return InputDataError(path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)")
        }
    }

    /// 1-based line and column; the column counts bytes, as editors showing UTF-8 offsets do.
    static func lineAndColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int) {
        let limit = min(max(offset, 0), bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<limit where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, limit - lineStart + 1)
    }
}
