// swift-tools-version: 6.0
import PackageDescription

/// chatd: a single-threaded libev chat daemon. Layers point one way:
/// ChatCore (pure logic) <- ChatStore (SQLite) <- ChatIO (the chat server) <- chatd, and
/// EventIO (reactor, watchers, sockets, transports, byte queue, threads, clock; no chat, no
/// SQLite, no libsodium) <- ChatIO and chatd-bench.
/// The hot path crosses modules (ChatIO feeds ChatCore's generic framer and outbox per read),
/// so release builds specialise and inline across them.
///
/// Release builds also drop the *dynamic* exclusivity checks (`-enforce-exclusivity=unchecked`):
/// the static checks still run at compile time, debug builds (every test) keep the dynamic ones,
/// and the profile showed swift_beginAccess with its thread-local access set at ~4% of the
/// loop's CPU on class-property accesses that are single-threaded by design.
let crossModule: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "chatd",
    products: [
        .executable(name: "chatd", targets: ["chatd"]),
        .executable(name: "chatd-bench", targets: ["chatd-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibEv", path: "CLibEv"),
        /// The sqlite3 C API (Debian libsqlite3-dev); see the README for why not GRDB.
        .systemLibrary(name: "CSQLite"),
        /// libsodium (Debian libsodium-dev): Argon2id password hashing.
        .systemLibrary(name: "CSodium"),
        /// OpenSSL 3 (Debian libssl-dev): TLS on the reactor. Not swift-nio-ssl: it brings
        /// BoringSSL and NIO channels this reactor does not use.
        .systemLibrary(name: "COpenSSL"),
        /// hiredis 0.14 (Debian libhiredis-dev): the cluster's Redis link, on the loop through
        /// hiredis's libev adapter.
        .systemLibrary(name: "CHiredis"),
        .target(name: "ChatCore", swiftSettings: crossModule),
        .target(name: "ChatStore", dependencies: ["ChatCore", "CSQLite"]),
        /// The reusable event-I/O toolkit: what a libev program needs whatever it serves.
        .target(name: "EventIO", dependencies: ["CLibEv", "COpenSSL"], swiftSettings: crossModule),
        .target(
            name: "ChatIO",
            dependencies: [
                "ChatCore", "ChatStore", "EventIO", "CLibEv", "CSodium", "COpenSSL", "CHiredis",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: crossModule
        ),
        .executableTarget(
            name: "chatd",
            dependencies: [
                "ChatCore", "ChatIO", "ChatStore", "EventIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "chatd-bench",
            dependencies: [
                "EventIO", "CLibEv",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // The load tool's receive loop updates counters held by one class; Swift's dynamic
            // exclusivity checks on them took 15% of its core, and a load tool that cannot keep
            // up makes the server it measures batch less. The tool is single-threaded.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .target(name: "ChatTestSupport", path: "Tests/ChatTestSupport"),
        .testTarget(name: "ChatCoreTests", dependencies: ["ChatCore"]),
        .testTarget(name: "ChatStoreTests", dependencies: ["ChatStore", "ChatCore"]),
        .testTarget(name: "ChatIOTests", dependencies: ["ChatIO", "EventIO", "ChatCore", "ChatStore", "ChatTestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["chatd", "ChatTestSupport"]),
    ]
)
