/// Why `compare` could not read or match its inputs: one line naming the file (and the JSON
/// path or CSV column), what was expected and what was found. Exit status 1.
struct CompareInputError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
