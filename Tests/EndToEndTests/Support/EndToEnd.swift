import Testing

/// Every end-to-end suite runs under this one, one test at a time: they share a Triton
/// server and its request records, and on two cores parallel load would make levels unstable.
/// Their tests are async and await the commands they run (`CommandRunner.run`,
/// `BackgroundCommand.waitForExit`), which block a thread of their own: a test that blocked
/// one of Swift's cooperative threads (one per core) for a whole run left the other targets'
/// tests one thread or none, and their time limits fired (CI, 2026-12-07).
@Suite("End to end", .serialized)
enum EndToEnd {}
