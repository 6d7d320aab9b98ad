// swift-tools-version:6.0
import PackageDescription

/// Settings shared by every Swift target: Swift 6 language mode and the upcoming features the
/// project holds itself to.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "windlass",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "windlass", targets: ["windlass"]),
        .executable(name: "windlass-bench", targets: ["windlass-bench"]),
        .library(name: "WindlassManifest", targets: ["WindlassManifest"]),
        .library(name: "WindlassGit", targets: ["WindlassGit"]),
        .library(name: "WindlassCluster", targets: ["WindlassCluster"]),
        .library(name: "WindlassPlan", targets: ["WindlassPlan"]),
        .library(name: "WindlassRollout", targets: ["WindlassRollout"]),
        .library(name: "WindlassPipeline", targets: ["WindlassPipeline"]),
        .library(name: "WindlassKubeAPI", targets: ["WindlassKubeAPI"]),
        .library(name: "WindlassKube", targets: ["WindlassKube"]),
        .library(name: "WindlassKustomize", targets: ["WindlassKustomize"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.2"),
    ],
    targets: [
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .target(
            name: "WindlassManifest",
            dependencies: ["CYAML"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassGit",
            dependencies: ["CGit2", "WindlassManifest"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "windlass",
            dependencies: [
                "WindlassManifest",
                "WindlassGit",
                "WindlassCluster",
                "WindlassCore",
                "WindlassPlan",
                "WindlassPolicy",
                "WindlassRollout",
                "WindlassPipeline",
                "WindlassServer",
                "WindlassKubeAPI",
                "WindlassKube",
                "WindlassKustomize",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "windlass-bench",
            dependencies: [
                "WindlassManifest", "WindlassGit", "WindlassCluster", "WindlassCore", "WindlassPlan", "WindlassPolicy", "WindlassRollout", "WindlassPipeline",
                "WindlassServer", "WindlassTesting", "WindlassKube", "CYAML", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassCluster",
            dependencies: ["WindlassManifest"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassPlan",
            dependencies: ["WindlassCluster", "WindlassManifest", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassPolicy",
            dependencies: ["WindlassManifest"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassRollout",
            dependencies: [
                "WindlassPlan", "WindlassPolicy", "WindlassCluster", "WindlassManifest", "WindlassStorage",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassPipeline",
            dependencies: ["WindlassGit", "WindlassManifest", "WindlassKustomize", "WindlassCluster", "WindlassPlan", "WindlassPolicy", "WindlassRollout"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassServer",
            dependencies: [
                "WindlassManifest", "WindlassGit", "WindlassCluster", "WindlassCore", "WindlassPlan", "WindlassPolicy", "WindlassRollout",
                "WindlassPipeline",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassKubeAPI",
            dependencies: [
                "WindlassCluster", "WindlassManifest",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassProcess",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassKustomize",
            dependencies: ["WindlassManifest", "WindlassProcess", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassKube",
            dependencies: [
                "WindlassCluster", "WindlassManifest", "WindlassProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassStorage",
            dependencies: ["WindlassCluster", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassCore",
            dependencies: ["WindlassCluster", "WindlassManifest", "WindlassStorage", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WindlassTesting",
            dependencies: ["WindlassCluster", "WindlassManifest"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassManifestTests",
            dependencies: ["WindlassManifest", "WindlassTesting"],
            exclude: ["Corpus"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassClusterTests",
            dependencies: ["WindlassCluster", "WindlassManifest"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassCoreTests",
            dependencies: ["WindlassCore", "WindlassCluster", "WindlassManifest", "WindlassTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassPlanTests",
            dependencies: ["WindlassPlan", "WindlassRollout", "WindlassPipeline", "WindlassServer", "WindlassCore", "WindlassCluster", "WindlassManifest", "WindlassTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassPolicyTests",
            dependencies: ["WindlassPolicy", "WindlassManifest", "WindlassTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassPipelineTests",
            dependencies: [
                "WindlassPipeline", "WindlassRollout", "WindlassPlan", "WindlassPolicy", "WindlassCluster", "WindlassManifest", "WindlassTesting",
                "WindlassGit", "WindlassKustomize",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassServerTests",
            dependencies: [
                "WindlassServer", "WindlassPipeline", "WindlassRollout", "WindlassCluster", "WindlassManifest", "WindlassGit", "WindlassPlan", "WindlassCore", "WindlassTesting", "WindlassKustomize",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassKubeTests",
            dependencies: ["WindlassKube", "WindlassCluster", "WindlassManifest", "WindlassTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassGitTests",
            dependencies: ["WindlassGit", "WindlassManifest", "WindlassTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WindlassCLITests",
            dependencies: ["windlass", "WindlassManifest", "WindlassCluster", "WindlassKube", "WindlassTesting", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
