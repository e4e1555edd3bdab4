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

let package = Package(
    name: "Tether",
    platforms: [.macOS(.v15)],
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
    ],
    targets: [
        // Raw syscall wrappers Swift cannot reach (clone, pivot_root, pidfd, setns, prctl, close_range, SCM_RIGHTS).
        .target(name: "CTetherLinux"),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),

        // Swift syscall layer: errno-carrying errors, fds, epoll event loop, signalfd, sockets, pty.
        .target(name: "TetherSystem", dependencies: ["CTetherLinux"], swiftSettings: swiftSettings),

        // The one command-line parser of every executable: a flag table read Go-style (shim, runtime) or POSIX-style.
        .target(name: "TetherFlags", swiftSettings: swiftSettings),

        // OCI runtime-spec types (config.json, state) and their validation.
        .target(name: "OCISpec", swiftSettings: swiftSettings),

        // The embeddable OCI runtime: create/start/state/kill/delete by fork from a single-threaded caller.
        .target(
            name: "TetherRuntime",
            dependencies: ["TetherSystem", "OCISpec", "CTetherLinux", "CSeccomp", "CLibcap"],
            swiftSettings: swiftSettings
        ),

        // ttrpc: containerd's RPC protocol (framing, dispatch, server on the epoll loop, client).
        .target(
            name: "TTRPC",
            dependencies: ["TetherSystem", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto"],
            swiftSettings: swiftSettings
        ),

        // Generated protobuf for containerd.task.v2, containerd.types, the task events and the events service.
        .target(
            name: "TetherAPI",
            dependencies: ["TTRPC", "TetherSystem", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto"],
            swiftSettings: swiftSettings
        ),

        // The per-container supervisor as a library: reaper, stdio, task service.
        .target(
            name: "TetherShim",
            dependencies: ["TetherRuntime", "TetherSystem", "TTRPC", "TetherAPI", "OCISpec", "CTetherLinux", "TetherFlags"],
            swiftSettings: swiftSettings
        ),

        // A fully static, position-dependent executable in release (a `run` is short-lived, so load time counts):
        // no dynamic loader, no shared libraries to map and bind (libseccomp, libcap, libstdc++, libm, libgcc_s),
        // no relocation of its ~37,000 pointers; unused sections dropped. Start-up 2.0 -> 1.0 ms. The price: the
        // executable is not address-randomised (heap and stack still are), and glibc's NSS is unavailable, which
        // the runtime does not use (it reads /etc/passwd itself, as runc).
        // tether-runtime's runc-compatible commands, as a library (unit-testable, and linked by the multi-call binary).
        .target(name: "TetherRuntimeCLI", dependencies: ["TetherRuntime", "TetherSystem", "OCISpec", "CTetherLinux", "TetherFlags"],
                swiftSettings: swiftSettings),
        .executableTarget(
            name: "tether-runtime",
            dependencies: ["TetherRuntimeCLI"],
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-Xlinker", "-no-pie", "-static-executable", "-Xlinker", "--gc-sections"], .when(configuration: .release))]
        ),
        // Linked in release as a fully static, position-dependent executable (one per container, idle most of its
        // life): its ~0.4 MB of pointers in .data.rel.ro need no relocation at load and stay shared file pages, and
        // without ld.so, libc.so, libstdc++.so, libm, libgcc_s, libcap and libseccomp there are no per-process
        // relocated GOTs, .data copies and TLS blocks of theirs (-140 kB of anonymous memory per shim). The price:
        // no address randomisation of the binary (the heap and stack still are), and no glibc NSS (nothing the shim
        // runs uses it: the runtime reads the owner's name from /etc/passwd itself).
        // The functions a shim runs are laid out together (gold's --section-ordering-file, from a callgrind profile
        // of one container's life: scripts/layout/shim.sh, `make layout`), so they fill a few 64 KiB windows of the
        // binary instead of ~100 (the kernel maps 64 KiB around each touched page): PSS per idle shim at 10 shims
        // 1042 -> 806 kB, RSS 8068 -> 5712 kB. Needs the Makefile's -function-sections for the package's own code.
        .executableTarget(name: "tether-shim", dependencies: ["TetherShim", "TetherSystem", .product(name: "SwiftProtobuf", package: "swift-protobuf")], swiftSettings: swiftSettings,
                          linkerSettings: [.unsafeFlags(["-Xlinker", "-no-pie", "-static-executable",
                                                         "-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/Sources/tether-shim/hot-functions.order"],
                                                        .when(configuration: .release))]),
        // tether-harness's commands, as a library (unit-testable command tables).
        .target(name: "TetherHarnessCommands", dependencies: ["TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"],
                swiftSettings: swiftSettings),
        .executableTarget(name: "tether-harness", dependencies: ["TetherHarnessCommands"], swiftSettings: swiftSettings),
        // tetherd's library: container records, bundles, shims spawned through their start contract.
        .target(name: "TetherDaemon", dependencies: ["CTetherLinux", "TTRPC", "TetherAPI", "TetherSystem", "OCISpec", "TetherFlags"], swiftSettings: swiftSettings),
        // tetherd (its command line in TetherDaemon.DaemonCommandLine). In release it is, like the shim, a fully static,
        // position-dependent executable: its resident memory is mostly pages of binaries it touches, and without
        // ld.so, libc.so, libstdc++.so and libm there are no pages of theirs and no relocated copies (RSS with 100
        // containers 13.8 MB PIE -> 12.7 MB no-pie -> 10.3 MB static).
        .executableTarget(
            name: "tetherd",
            dependencies: ["TetherDaemon", "TetherSystem"],
            swiftSettings: swiftSettings,
            // Its functions laid out in the order a profiled session ran them, as the shim's (scripts/layout/tetherd.sh).
            linkerSettings: [.unsafeFlags(["-Xlinker", "-no-pie", "-static-executable",
                                           "-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/Sources/tetherd/hot-functions.order"],
                                          .when(configuration: .release))]
        ),
        // tetherctl too: a static binary starts without ld.so resolving libstdc++ and libc ('tetherctl run --help'
        // 3.0 -> 1.3 ms, hyperfine -N).
        // tetherctl's commands, as a library (unit-testable, and linked by the multi-call binary).
        .target(name: "TetherCtlCommands", dependencies: ["CTetherLinux", "TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"],
                swiftSettings: swiftSettings),
        .executableTarget(
            name: "tetherctl",
            dependencies: ["TetherCtlCommands"],
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-Xlinker", "-no-pie", "-static-executable"], .when(configuration: .release))]
        ),
        // ttrpc round-trip latency and throughput (`make bench`), and the random-frame driver (`make fuzz`).
        .executableTarget(name: "ttrpc-bench", dependencies: ["TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"], swiftSettings: swiftSettings),
        .executableTarget(name: "ttrpc-fuzz", dependencies: ["TTRPC", "TetherAPI", "TetherSystem", "TetherFlags"], swiftSettings: swiftSettings),

        .testTarget(name: "TetherFlagsTests", dependencies: ["TetherFlags"], swiftSettings: swiftSettings),
        .testTarget(name: "TetherCLITests", dependencies: ["TetherFlags", "TetherRuntimeCLI", "TetherCtlCommands", "TetherDaemon",
                                                           "TetherHarnessCommands"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "TetherSystemTests", dependencies: ["TetherSystem"], swiftSettings: swiftSettings),
        .testTarget(name: "OCISpecTests", dependencies: ["OCISpec"], swiftSettings: swiftSettings),
        .testTarget(name: "TTRPCTests", dependencies: ["TTRPC", "TetherAPI", "TetherSystem"], swiftSettings: swiftSettings),
        .testTarget(name: "TetherShimTests", dependencies: ["TetherShim", "TetherRuntime", "TetherAPI", "TetherSystem"], swiftSettings: swiftSettings),
        // Root-only tests that drive the built executables against the real kernel and the real peers.
        .testTarget(name: "IntegrationTests", dependencies: ["CTetherLinux", "TetherSystem", "TTRPC", "TetherAPI"], swiftSettings: swiftSettings),
    ]
)
