// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Simforge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "catalog", targets: ["CatalogService"]),
        .executable(name: "files", targets: ["FilesService"]),
        .executable(name: "jobs", targets: ["JobsService"]),
        .executable(name: "status", targets: ["StatusService"]),
        .executable(name: "dev-gateway", targets: ["DevGateway"]),
        .executable(name: "simforge-agent", targets: ["JobAgent"]),
        .executable(name: "simforge", targets: ["SimforgeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "SimforgeModels",
            path: "Shared/SimforgeModels",
            swiftSettings: crossModuleOptimization
        ),
        .target(
            name: "SimforgeFailover",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/SimforgeFailover"
        ),
        .target(
            name: "SimforgeServer",
            dependencies: [
                "SimforgeModels",
                "SimforgeFailover",
                "SimforgeProcess",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/SimforgeServer",
            swiftSettings: crossModuleOptimization
        ),
        .target(
            name: "CSimforgeProcess",
            path: "Shared/CSimforgeProcess"
        ),
        .target(
            name: "CSimforgeFiles",
            path: "Shared/CSimforgeFiles"
        ),
        .target(
            name: "SimforgeProcess",
            dependencies: ["CSimforgeProcess"],
            path: "Shared/SimforgeProcess"
        ),
        .executableTarget(
            name: "JobAgent",
            dependencies: [
                "SimforgeModels",
                "SimforgeFailover",
                "SimforgeProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Services/Agent"
        ),
        .executableTarget(
            name: "SimforgeCLI",
            dependencies: [
                "SimforgeModels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Services/CLI"
        ),
        .executableTarget(
            name: "CatalogService",
            dependencies: [
                "SimforgeModels",
                "SimforgeServer",
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Services/Catalog"
        ),
        .executableTarget(
            name: "FilesService",
            dependencies: [
                "SimforgeModels",
                "SimforgeServer",
                "SimforgeFailover",
                "CSimforgeFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Services/Files"
        ),
        .executableTarget(
            name: "JobsService",
            dependencies: [
                "SimforgeModels",
                "SimforgeServer",
                "SimforgeFailover",
                "SimforgeProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Services/Jobs"
        ),
        .executableTarget(
            name: "StatusService",
            dependencies: ["SimforgeModels", "SimforgeServer"],
            path: "Services/Status"
        ),
        .executableTarget(
            name: "DevGateway",
            dependencies: [
                "SimforgeServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Services/DevGateway"
        ),
        .target(
            name: "SimforgeTestSupport",
            dependencies: [
                "SimforgeModels",
                "SimforgeServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Tests/SimforgeTestSupport"
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                "SimforgeModels",
                "SimforgeServer",
                "SimforgeFailover",
                "SimforgeTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/SharedTests"
        ),
        .testTarget(
            name: "CatalogServiceTests",
            dependencies: [
                "CatalogService",
                "SimforgeServer",
                "SimforgeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/CatalogServiceTests"
        ),
        .testTarget(
            name: "FilesServiceTests",
            dependencies: [
                "FilesService",
                "SimforgeServer",
                "SimforgeTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/FilesServiceTests"
        ),
        .testTarget(
            name: "JobsServiceTests",
            dependencies: [
                "JobsService",
                "SimforgeProcess",
                "CatalogService",
                "FilesService",
                "StatusService",
                "SimforgeServer",
                "SimforgeTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/JobsServiceTests"
        ),
        .testTarget(
            name: "SimforgeCLITests",
            dependencies: ["SimforgeCLI", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Tests/SimforgeCLITests"
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "JobAgent",
                "SimforgeFailover",
                "SimforgeTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/AgentTests"
        ),
        .testTarget(
            name: "StatusServiceTests",
            dependencies: [
                "StatusService",
                "SimforgeServer",
                "SimforgeTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/StatusServiceTests"
        ),
        .testTarget(
            name: "DevGatewayTests",
            dependencies: [
                "DevGateway",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "SimforgeServer",
                "SimforgeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/DevGatewayTests"
        ),
    ]
)

/// The shared libraries' generic code (JSON writing, pages, the read cache) specialized in
/// the services that use it, in release builds: without it a status page spent a sixth of
/// its CPU looking up generic metadata at run time (BENCHMARKS.md).
var crossModuleOptimization: [SwiftSetting] {
    [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
}
