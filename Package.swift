// swift-tools-version: 6.1
//
// Tether: a container supervision stack for Linux.
// Dependencies point one way (see Documentation/Architecture.md):
//   CTetherLinux, CSeccomp, CLibcap -> TetherSystem -> OCISpec -> TetherRuntime -> TetherShim -> executables
//   TTRPC -> TetherAPI -> TetherShim, TetherDaemon
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

/// The release link of the executables that run often or stay resident (why: Documentation/Performance.md), in one
/// place: fully static and position-dependent (no ld.so, nothing to relocate at start); `dropUnused`: functions
/// nothing calls are dropped; `order`: the long-lived ones' hot functions first, in the order `make layout` profiled
/// (gold's section ordering; lld would link ICU's data into the binaries that reach Foundation). The flags that
/// must reach the dependency packages too (--static-swift-stdlib, -function-sections) stay in the Makefile's
/// RELEASE_FLAGS.
func staticReleaseLink(dropUnused: Bool = false, order: String? = nil) -> [LinkerSetting] {
    var flags = ["-Xlinker", "-no-pie", "-static-executable"]
    if dropUnused { flags += ["-Xlinker", "--gc-sections"] }
    if let order { flags += ["-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/\(order)"] }
    return [.unsafeFlags(flags, .when(configuration: .release))]
}

let package = Package(
    name: "Tether",
    products: [
        .executable(name: "tether-runtime", targets: ["tether-runtime"]),
        .executable(name: "tether-shim", targets: ["tether-shim"]),
        .executable(name: "tether-harness", targets: ["tether-harness"]),
        .executable(name: "tetherd", targets: ["tetherd"]),
        .executable(name: "tetherctl", targets: ["tetherctl"]),
        .library(name: "TetherRuntime", targets: ["TetherRuntime"]),
        .library(name: "TTRPC", targets: ["TTRPC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Raw syscall wrappers Swift cannot reach (clone, pivot_root, pidfd, setns, prctl, close_range, SCM_RIGHTS).
        .target(name: "CTetherLinux"),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),

        // Swift syscall layer: errno-carrying errors, fds, epoll event loop, signalfd, sockets, pty.
        .target(name: "TetherSystem", dependencies: ["CTetherLinux"], exclude: ["README.md"], swiftSettings: swiftSettings),

        // swift-log's logfmt handler that tetherd and the shim log through (no lock, no thread).
        .target(name: "TetherLogging", dependencies: ["TetherSystem", .product(name: "Logging", package: "swift-log")],
                exclude: ["README.md"], swiftSettings: swiftSettings),

        // The one command-line parser of every executable: a flag table read Go-style (shim, runtime) or POSIX-style.
        .target(name: "TetherFlags", exclude: ["README.md"], swiftSettings: swiftSettings),

        // OCI runtime-spec types (config.json, state) and their validation.
        .target(name: "OCISpec", exclude: ["README.md"], swiftSettings: swiftSettings),

        // The embeddable OCI runtime: create/start/state/kill/delete by fork from a single-threaded caller.
        .target(
            name: "TetherRuntime",
            dependencies: ["TetherSystem", "OCISpec", "CTetherLinux", "CSeccomp", "CLibcap"],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),

        // ttrpc: containerd's RPC protocol (framing, dispatch, server on the epoll loop, client).
        .target(
            name: "TTRPC",
            dependencies: ["TetherSystem", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto", "README.md"],
            swiftSettings: swiftSettings
        ),

        // Generated protobuf for containerd.task.v2, containerd.types, the task events and the events service.
        .target(
            name: "TetherAPI",
            dependencies: ["TTRPC", "TetherSystem", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto", "README.md"],
            swiftSettings: swiftSettings
        ),

        // The image store's model: references, OCI/docker documents, store layout, records, resolving, GC. No C.
        .target(name: "TetherImage", dependencies: ["TetherSystem"], exclude: ["README.md"], swiftSettings: swiftSettings),

        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The image work that needs C libraries (hashing, registry HTTP, archives): only tether-image links it.
        .target(name: "TetherImageTransfer", dependencies: ["TetherImage", "TetherSystem", "CCrypto"], exclude: ["README.md"],
                swiftSettings: swiftSettings),

        // The per-container supervisor as a library: reaper, stdio, task service.
        .target(
            name: "TetherShim",
            dependencies: ["TetherRuntime", "TetherSystem", "TetherLogging", "TTRPC", "TetherAPI", "OCISpec", "CTetherLinux", "TetherFlags"],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),

        // tether-runtime's runc-compatible commands, as a library (unit-testable).
        .target(name: "TetherRuntimeCLI", dependencies: ["TetherRuntime", "TetherSystem", "OCISpec", "CTetherLinux", "TetherFlags"], exclude: ["README.md"],
                swiftSettings: swiftSettings),
        .executableTarget(
            name: "tether-runtime",
            dependencies: ["TetherRuntimeCLI"],
            swiftSettings: swiftSettings,
            linkerSettings: staticReleaseLink(dropUnused: true)
        ),
        // --section-ordering-file: the functions an idle shim runs laid out together (`make layout`, scripts/layout/).
        .executableTarget(name: "tether-shim", dependencies: ["TetherShim", "TetherSystem", "TetherLogging", .product(name: "SwiftProtobuf", package: "swift-protobuf")], exclude: ["hot-functions.order"], swiftSettings: swiftSettings,
                          linkerSettings: staticReleaseLink(order: "Sources/tether-shim/hot-functions.order")),
        // tether-harness's commands, as a library (unit-testable command tables).
        .target(name: "TetherHarnessCommands", dependencies: ["TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"], exclude: ["README.md"],
                swiftSettings: swiftSettings),
        .executableTarget(name: "tether-harness", dependencies: ["TetherHarnessCommands"], swiftSettings: swiftSettings),
        // tetherd's library: container records, bundles, shims spawned through their start contract.
        .target(name: "TetherDaemon", dependencies: ["CTetherLinux", "TTRPC", "TetherAPI", "TetherSystem", "TetherLogging", "OCISpec", "TetherFlags"], exclude: ["README.md"], swiftSettings: swiftSettings),
        // Static as the shim, and its functions in the order a profiled session ran them (scripts/layout/tetherd.sh).
        .executableTarget(
            name: "tetherd",
            dependencies: ["TetherDaemon", "TetherSystem", "TetherLogging"],
            exclude: ["hot-functions.order"],
            swiftSettings: swiftSettings,
            linkerSettings: staticReleaseLink(order: "Sources/tetherd/hot-functions.order")
        ),
        // tetherctl's commands, as a library (unit-testable).
        .target(name: "TetherCtlCommands", dependencies: ["CTetherLinux", "TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"], exclude: ["README.md"],
                swiftSettings: swiftSettings),
        // Static: a CLI's start-up is mostly ld.so's work otherwise.
        .executableTarget(
            name: "tetherctl",
            dependencies: ["TetherCtlCommands"],
            swiftSettings: swiftSettings,
            linkerSettings: staticReleaseLink()
        ),
        // ttrpc round-trip latency and throughput (`make bench`), and the random-frame driver (`make fuzz`).
        .executableTarget(name: "ttrpc-bench", dependencies: ["TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"], swiftSettings: swiftSettings),
        .executableTarget(name: "ttrpc-fuzz", dependencies: ["TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"], swiftSettings: swiftSettings),

        // Helpers the test targets share (waitUntil, TemporaryDirectory): one copy instead of one per target.
        .target(name: "TetherTestSupport", dependencies: ["TetherSystem"], path: "Tests/TetherTestSupport", exclude: ["README.md"], swiftSettings: swiftSettings),
        .testTarget(name: "TetherSystemTests", dependencies: ["TetherSystem", "TetherLogging"], swiftSettings: swiftSettings),
        .testTarget(name: "TetherFlagsTests", dependencies: ["TetherFlags"], swiftSettings: swiftSettings),
        .testTarget(name: "TetherCLITests", dependencies: ["TetherFlags", "TetherRuntimeCLI", "TetherCtlCommands", "TetherDaemon",
                                                           "TetherHarnessCommands"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "OCISpecTests", dependencies: ["OCISpec"], swiftSettings: swiftSettings),
        // The runtime's pure logic (cgroup plan, mountinfo, resource maths, device rules, sync codec, ids, mount options): no root.
        .testTarget(name: "TetherRuntimeTests", dependencies: ["TetherRuntime", "OCISpec"], swiftSettings: swiftSettings),
        .testTarget(name: "TTRPCTests", dependencies: ["TTRPC", "TetherAPI", "TetherSystem", "TetherTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "TetherShimTests", dependencies: ["TetherShim", "TetherRuntime", "TetherAPI", "TetherSystem", "TetherTestSupport"], swiftSettings: swiftSettings),
        // tetherd's pure logic (records, settings, restart policy, bundles), without root or executables.
        .testTarget(name: "TetherDaemonTests", dependencies: ["TetherDaemon", "TetherAPI", "OCISpec", "TTRPC", "TetherSystem"],
                    exclude: ["Records"], swiftSettings: swiftSettings),
        // Root-only tests that drive the built executables against the real kernel and the real peers.
        .testTarget(name: "IntegrationTests", dependencies: ["CTetherLinux", "TetherSystem", "TTRPC", "TetherAPI", "TetherTestSupport"], swiftSettings: swiftSettings),
    ]
)
