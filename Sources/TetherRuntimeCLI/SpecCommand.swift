#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TetherFlags
import TetherRuntime
import TetherSystem

struct SpecCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "spec", abstract: "Write a default config.json (like runc spec).",
        flags: [.init("-b", "--bundle", value: "DIR", help: "Directory to write config.json into (default: the current directory)."),
                .init("--rootless", help: "Write runc's rootless template (a user namespace mapping your own ids, no network namespace, /sys bound).")])

    let bundle: String
    let rootless: Bool

    init(_ arguments: ParsedFlags) {
        bundle = arguments.value("--bundle") ?? "."
        rootless = arguments.isSet("--rootless")
    }

    func run() throws {
        let path = (bundle.hasSuffix("/") ? String(bundle.dropLast()) : bundle) + "/config.json"
        if FileIO.exists(path) {
            throw RuntimeError(.alreadyExists, "\(path) exists: remove it first")
        }
        let bytes = try (rootless ? DefaultSpec.makeRootless() : DefaultSpec.make()).encoded(pretty: true)
        do {
            try FileIO.writeFile(path, String(decoding: bytes, as: UTF8.self) + "\n", flags: O_WRONLY | O_CREAT | O_EXCL)
        } catch let error as SyscallError {
            throw RuntimeError.system(error, stage: "spec")
        }
    }
}

struct FeaturesCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(name: "features", abstract: "Print what this runtime supports (JSON).")

    init(_ arguments: ParsedFlags) {}

    func run() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAll(1, String(decoding: try encoder.encode(Features.current), as: UTF8.self) + "\n")
    }
}

/// `runc features` output (runtime-spec features.md).
struct Features: Encodable {
    struct LinuxFeatures: Encodable {
        struct Cgroup: Encodable { var v1: Bool; var v2: Bool; var systemd: Bool; var systemdUser: Bool; var rdma: Bool }
        struct Seccomp: Encodable {
            var enabled: Bool
            var actions: [String]
            var operators: [String]
            var archs: [String]
            var knownFlags: [String]
            var supportedFlags: [String]
        }
        struct Toggle: Encodable { var enabled: Bool }
        var namespaces: [String]
        var capabilities: [String]
        var cgroup: Cgroup
        var seccomp: Seccomp
        var apparmor: Toggle
        var selinux: Toggle
        var intelRdt: Toggle
        var mountExtensions: [String: Toggle]
    }

    var ociVersionMin: String
    var ociVersionMax: String
    var hooks: [String]
    var mountOptions: [String]
    var linux: LinuxFeatures
    var annotations: [String: String]

    static var current: Features {
        let mountOptions = (Array(["async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand",
            "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid",
            "nosymfollow", "rbind", "relatime", "remount", "ro", "rw", "strictatime", "suid", "sync", "symfollow"])
            + ["private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"]).sorted()
        return Features(
            ociVersionMin: "1.0.0", ociVersionMax: OCIVersion.current,
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            mountOptions: mountOptions,
            linux: LinuxFeatures(
                namespaces: ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
                capabilities: OCISpec.Process.Capabilities.knownNames,
                cgroup: .init(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false),
                seccomp: .init(
                    enabled: true, actions: OCISpec.Seccomp.knownActions.sorted(), operators: OCISpec.Seccomp.knownOperators.sorted(),
                    archs: OCISpec.Seccomp.knownArchitectures.sorted(), knownFlags: OCISpec.Seccomp.knownFlags,
                    supportedFlags: OCISpec.Seccomp.knownFlags),
                apparmor: .init(enabled: false), selinux: .init(enabled: false),
                intelRdt: .init(enabled: false), mountExtensions: ["idmap": .init(enabled: false)]),
            // cgroup v1 and v2 through cgroupfs (no systemd driver, no rdma); on v2 the device allow-list is an
            // eBPF device program: said here, as features has no field for it.
            annotations: ["org.opencontainers.runc.version": "tether-runtime 0.1.0",
                          "org.tether.cgroup.v2.devices": "enforced (eBPF BPF_PROG_TYPE_CGROUP_DEVICE program)"]
        )
    }
}

/// The config.json `runc spec` writes: sh in a read-only rootfs "rootfs", the usual mounts, masked paths.
enum DefaultSpec {
    static let defaultCapabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    static func make() -> Spec {
        var process = OCISpec.Process(
            terminal: true, args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"], cwd: "/")
        process.capabilities = .init(bounding: defaultCapabilities, effective: defaultCapabilities,
                                     permitted: defaultCapabilities, ambient: defaultCapabilities)
        process.rlimits = [.init(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]
        process.noNewPrivileges = true
        var linux = Linux(namespaces: [NamespaceType.pid, .network, .ipc, .uts, .mount, .cgroup].map { Linux.Namespace(type: $0) })
        var resources = Resources()
        resources.devices = [Resources.DeviceCgroup(allow: false, type: nil, major: nil, minor: nil, access: "rwm")]
        linux.resources = resources
        linux.maskedPaths = Linux.runcMaskedPaths
        linux.readonlyPaths = Linux.runcReadonlyPaths
        return Spec(
            process: process, root: Root(path: "rootfs", readonly: true), hostname: "runc",
            mounts: Mount.runcDefaults,
            linux: linux
        )
    }

    /// runc's specconv.ToRootless: no network namespace, a new user namespace mapping the caller's uid and gid to
    /// 0, /sys bound from the host (sysfs needs a network namespace of the container's), no uid=/gid= mount
    /// options (those ids are not mapped), no cgroup resources.
    static func makeRootless() -> Spec {
        var spec = make()
        var linux = spec.linux ?? Linux()
        linux.namespaces = (linux.namespaces ?? []).filter { $0.type != .network && $0.type != .user } + [Linux.Namespace(type: .user)]
        linux.uidMappings = [IDMapping(containerID: 0, hostID: geteuid(), size: 1)]
        linux.gidMappings = [IDMapping(containerID: 0, hostID: getegid(), size: 1)]
        linux.resources = nil
        spec.linux = linux
        spec.mounts = (spec.mounts ?? []).map { mount in
            if mount.destination.split(separator: "/").joined(separator: "/") == "sys" {
                return Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            }
            var mount = mount
            mount.options = mount.options?.filter { !$0.hasPrefix("uid=") && !$0.hasPrefix("gid=") }
            return mount
        }
        return spec
    }
}
