#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TTRPC
import TetherSystem

/// Writes a container's OCI bundle: config.json with Docker-like defaults (SecurityProfile's capabilities and
/// seccomp filter, masked and read-only /proc paths, a private network unless `--network host`, a pid namespace
/// of its own unless `--pid`), the cgroup limits asked for, and the stdio FIFOs tetherctl attaches to. The root
/// is `rootfs/`, which the shim mounts as an overlay of the image directory (the Create request's rootfs mount,
/// `Daemon.launch`).
enum BundleWriter {
    /// Whether /sys/fs/cgroup is the unified hierarchy itself (a cgroup v2-only host; a hybrid host has it at
    /// /sys/fs/cgroup/unified).
    static let hostIsCgroupV2Only = FileIO.exists("/sys/fs/cgroup/cgroup.controllers")

    /// `--pid container:NAME` joins the namespace at `pidNamespacePath` (`/proc/<NAME's init>/ns/pid`).
    static func spec(for record: ContainerRecord, pidNamespacePath: String? = nil) throws(TTRPCStatus) -> Spec {
        let settings = record.settings
        let process = try process(for: record, args: record.args, env: record.env, cwd: record.cwd, user: settings.user,
                                  terminal: settings.tty, consoleSize: settings.consoleSize)
        var namespaces: [Linux.Namespace] = [.init(type: .ipc), .init(type: .uts), .init(type: .mount)]
        if settings.pid != "host" { namespaces.insert(.init(type: .pid, path: pidNamespacePath), at: 0) }
        if record.network != "host" { namespaces.append(.init(type: .network)) }
        // docker's default cgroupns mode: private on a cgroup v2 host (the container sees itself at /), the host's
        // on v1.
        if BundleWriter.hostIsCgroupV2Only { namespaces.append(.init(type: .cgroup)) }
        var linux = Linux(namespaces: namespaces)
        linux.cgroupsPath = "/tether/\(record.id)"
        if UserDirectories.isRootless {
            // A user's tetherd: the container gets a user namespace in which the user is root (its network
            // namespace is then the container's own, so sysfs mounts), and cgroups only where the user may make
            // them (no cgroupsPath: runc's rootless rule leaves out what it cannot create unless limits are asked).
            linux.namespaces = namespaces + [.init(type: .user)]
            linux.uidMappings = [IDMapping(containerID: 0, hostID: geteuid(), size: 1)]
            linux.gidMappings = [IDMapping(containerID: 0, hostID: getegid(), size: 1)]
            linux.cgroupsPath = nil
        }
        if !settings.privileged {
            linux.maskedPaths = Linux.runcMaskedPaths
            linux.readonlyPaths = Linux.runcReadonlyPaths
        }
        linux.resources = resources(settings)
        linux.seccomp = SecurityProfile.seccomp(settings, capabilities: process.capabilities?.bounding ?? [])
        // A user namespace maps only the user: no uid=/gid= mount options (devpts's gid=5), as runc's rootless spec.
        let mounts = UserDirectories.isRootless
            ? Mount.runcDefaults.map { mount in
                var mount = mount
                mount.options = mount.options?.filter { !$0.hasPrefix("uid=") && !$0.hasPrefix("gid=") }
                return mount
            }
            : Mount.runcDefaults
        return Spec(ociVersion: OCIVersion.current, process: process, root: Root(path: "rootfs", readonly: record.readOnly),
                    hostname: record.hostname.isEmpty ? String(record.id.prefix(12)) : record.hostname,
                    mounts: mounts, linux: linux)
    }

    /// The process of the container's init or of an exec in it: the container's capabilities for both. A terminal
    /// has `consoleSize` from the start (the runtime sets it on the pty), so the process never sees a 0×0 one.
    static func process(for record: ContainerRecord, args: [String], env: [String], cwd: String, user: String,
                        terminal: Bool, consoleSize: OCISpec.Process.ConsoleSize?) throws(TTRPCStatus) -> OCISpec.Process {
        let capabilities = try SecurityProfile.capabilities(record.settings)
        var process = OCISpec.Process(
            terminal: terminal, user: try processUser(user), args: args,
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] + (terminal ? ["TERM=xterm"] : []) + env,
            cwd: cwd.isEmpty ? (record.cwd.isEmpty ? "/" : record.cwd) : cwd)
        process.capabilities = OCISpec.Process.Capabilities(
            bounding: capabilities, effective: capabilities, inheritable: nil, permitted: capabilities, ambient: nil)
        process.rlimits = [.init(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]
        if terminal { process.consoleSize = consoleSize }
        if record.settings.noNewPrivileges { process.noNewPrivileges = true }
        return process
    }

    /// `-u UID[:GID]` (numeric: the image's /etc/passwd is not read); empty is root.
    static func processUser(_ text: String) throws(TTRPCStatus) -> OCISpec.Process.User {
        if text.isEmpty { return .init(uid: 0, gid: 0) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let uid = UInt32(parts[0]), let gid = parts.count == 2 ? UInt32(parts[1]) : uid else {
            throw TTRPCStatus(.invalidArgument, "--user \(text): expected UID[:GID] (numbers)")
        }
        return .init(uid: uid, gid: gid)
    }

    /// `--memory`, `--cpus` (a quota per 100 ms period) and `--pids-limit` as `linux.resources`.
    static func resources(_ settings: ContainerSettings) -> Resources? {
        guard settings.memoryBytes > 0 || settings.nanoCPUs > 0 || settings.pidsLimit > 0 else { return nil }
        var resources = Resources()
        if settings.memoryBytes > 0 {
            var memory = Resources.Memory()
            memory.limit = settings.memoryBytes
            resources.memory = memory
        }
        if settings.nanoCPUs > 0 {
            var cpu = Resources.CPU()
            cpu.period = 100_000
            cpu.quota = settings.nanoCPUs * 100_000 / 1_000_000_000
            resources.cpu = cpu
        }
        if settings.pidsLimit > 0 { resources.pids = .init(limit: settings.pidsLimit) }
        return resources
    }

    /// Writes config.json into `bundle` (which `launch` made, with its `rootfs/`, before starting the shim),
    /// checked (an error names the file and the errno) but not synced: the bundle is runtime state, in `--state`.
    static func write(_ record: ContainerRecord, to bundle: String, pidNamespacePath: String? = nil) throws {
        let spec = try spec(for: record, pidNamespacePath: pidNamespacePath)
        try DurableFile.write(bundle + "/config.json", configJSON(spec), mode: 0o644, sync: false)
    }

    /// config.json as OCISpec's JSONWriter writes a Spec (compact, unsorted: only the shim reads it, and `run` waits for
    /// it): what JSONEncoder writes, without its Codable work (the seccomp profile alone is ~300 syscall names).
    /// The writer covers every member of Spec (OCISpecTests' parity test), so no setting can fall off here.
    static func configJSON(_ spec: Spec) -> [UInt8] {
        var writer = JSONWriter()
        spec.write(to: &writer)
        return writer.bytes
    }

    /// The container's stdin FIFO (`-i`) in its bundle.
    static func stdinPath(bundle: String) -> String { bundle + "/stdin" }

    /// Makes a FIFO (root only) unless it exists.
    static func makeFIFO(_ path: String) throws {
        if mkfifo(path, 0o600) != 0 && errno != EEXIST { throw SyscallError("mkfifo \(path)", errno: errno) }
    }
}
