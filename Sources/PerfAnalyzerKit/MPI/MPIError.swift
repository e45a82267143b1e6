/// Why an MPI run cannot go on, as one line for the user.
public struct MPIError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
