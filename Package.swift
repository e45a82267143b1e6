// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-perf-analyzer",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "perf-analyzer", targets: ["perf-analyzer"]),
        .executable(name: "kserve-sim", targets: ["kserve-sim"]),
        .library(name: "PerfAnalyzerKit", targets: ["PerfAnalyzerKit"]),
        .library(name: "KServeSim", targets: ["KServeSim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // Wire-level KServe v2 types shared by the client and the simulator.
        .target(
            name: "KServeProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The engine: options, model description, payloads, HTTP client, load, measurement, reports.
        .target(
            name: "PerfAnalyzerKit",
            dependencies: [
                "KServeProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The simulated KServe v2 server.
        .target(
            name: "KServeSim",
            dependencies: [
                "KServeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "perf-analyzer", dependencies: ["PerfAnalyzerKit"]),
        .executableTarget(
            name: "kserve-sim",
            dependencies: [
                "KServeSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PerfAnalyzerKitTests", dependencies: ["PerfAnalyzerKit", "KServeProtocol"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PerfAnalyzerKit", "KServeProtocol"]),
        .testTarget(
            name: "KServeSimTests",
            dependencies: [
                "KServeSim", "KServeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
