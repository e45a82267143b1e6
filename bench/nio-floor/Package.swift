// swift-tools-version:6.0
// The NIO floor of bench/wrk-tail.sh: what one SwiftNIO event loop can drive against the same
// server with nothing else to do, so the table shows how much of ours' gap to wrk is NIO's.
import PackageDescription

let package = Package(
    name: "nio-floor",
    dependencies: [.package(url: "https://github.com/apple/swift-nio", from: "2.80.0")],
    targets: [
        .executableTarget(name: "nio-floor", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
