import Testing

/// Every end-to-end suite runs under this one, one test at a time: they share a Triton
/// server and its request records, and on two cores parallel load would make levels unstable.
@Suite("End to end", .serialized)
enum EndToEnd {}
