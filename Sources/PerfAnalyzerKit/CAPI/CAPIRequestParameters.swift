#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `--request-parameter` in the form the C API takes it: each name and string value as a C
/// string made once, so a slot sets a request's parameters without converting anything.
/// Later parameters with the same name replace earlier ones, as on the other kinds.
final class CAPIRequestParameters: @unchecked Sendable {
    enum Value {
        case bool(Bool)
        case int(Int64)
        case string(UnsafePointer<CChar>)
    }

    struct Parameter {
        var name: UnsafePointer<CChar>
        var value: Value
    }

    /// Never changed once made; the C strings live as long as this table.
    let parameters: [Parameter]
    private let strings: [UnsafeMutablePointer<CChar>]

    init(_ given: [RequestParameter]) {
        var seen = Set<String>()
        let kept = given.reversed().filter { seen.insert($0.name).inserted }.reversed()
        var strings: [UnsafeMutablePointer<CChar>] = []
        func copy(_ text: String) -> UnsafePointer<CChar> {
            let pointer = strdup(text)!
            strings.append(pointer)
            return UnsafePointer(pointer)
        }
        parameters = kept.map { parameter in
            let value: Value
            switch parameter.value {
            case .bool(let flag): value = .bool(flag)
            case .int(let number): value = .int(number)
            case .string(let text): value = .string(copy(text))
            }
            return Parameter(name: copy(parameter.name), value: value)
        }
        self.strings = strings
    }

    deinit {
        for string in strings { free(string) }
    }
}
