#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// Running without root, as runc's rootless mode: the runtime's state lives in the user's runtime directory, the
/// container's user namespace gets its id maps written by the user (one mapping of the user's own id) or by the
/// setuid `newuidmap`/`newgidmap` (several ranges from /etc/subuid and /etc/subgid), and cgroups the user may not
/// create are left out unless the config asks for limits.
public enum Rootless {
    /// Whether the caller is not root (runc's RootlessEUID).
    public static var isRootless: Bool { geteuid() != 0 }

    /// Whether the caller runs in a user namespace other than the host's (its uid_map is not the whole range):
    /// root there (a rootless podman's runtime) still may not create cgroups, and runc treats its cgroups as
    /// rootless then.
    public static var inUserNamespace: Bool { UserDirectories.inUserNamespace }

    /// `base` (e.g. /run/tether-runtime) for root; `$XDG_RUNTIME_DIR/<last component of base>` for anyone else
    /// when the variable is set (runc's default root, $XDG_RUNTIME_DIR/runc).
    public static func defaultDirectory(_ base: String) -> String { UserDirectories.runtime(base) }

    /// Whether `maps` is exactly the one mapping a user may write without help: container id 0 (any) to its own
    /// `id`, size 1. Anything else needs newuidmap/newgidmap (runc's requiresRootOrMappingTool).
    static func isOwnIDOnly(_ maps: [IDMapping], id: UInt32) -> Bool {
        maps.count == 1 && maps[0].hostID == id && maps[0].size == 1
    }

    /// Writes the uid and gid maps of `pid`'s new user namespace. Root writes them directly. A user writes its own
    /// single id directly (gid_map only after `setgroups` is "deny", which the kernel requires); other maps go through
    /// newuidmap/newgidmap, which check them against /etc/subuid and /etc/subgid.
    static func writeIDMaps(pid: Int32, uidMappings: [IDMapping], gidMappings: [IDMapping]) throws {
        func render(_ maps: [IDMapping]) -> String {
            maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        do {
            if !isRootless || isOwnIDOnly(uidMappings, id: geteuid()) {
                try FileIO.writeFile("/proc/\(pid)/uid_map", render(uidMappings), flags: O_WRONLY)
            } else {
                try runMappingTool("newuidmap", pid: pid, uidMappings, field: "linux.uidMappings")
            }
            if !isRootless {
                try FileIO.writeFile("/proc/\(pid)/gid_map", render(gidMappings), flags: O_WRONLY)
            } else if isOwnIDOnly(gidMappings, id: getegid()) {
                try FileIO.writeFile("/proc/\(pid)/setgroups", "deny", flags: O_WRONLY)
                try FileIO.writeFile("/proc/\(pid)/gid_map", render(gidMappings), flags: O_WRONLY)
            } else {
                try runMappingTool("newgidmap", pid: pid, gidMappings, field: "linux.gidMappings")
            }
        } catch let error as SyscallError {
            let hint = error.errno == EPERM && isRootless
                ? " (without root, a single mapping of your own id, or ranges listed for you in /etc/subuid and /etc/subgid)" : ""
            throw RuntimeError(.system, "\(error.description)\(hint)", stage: "write id maps", syscall: error)
        }
    }

    /// `tool PID containerID hostID size ...`, found in PATH or in /usr/bin (Debian's uidmap package).
    private static func runMappingTool(_ tool: String, pid: Int32, _ maps: [IDMapping], field: String) throws {
        let candidates: [String] = ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + tool }
        let path = candidates.first { access($0, X_OK) == 0 }
        guard let path else {
            throw RuntimeError(.unsupported,
                               "\(field): more than one mapping of your own id needs \(tool) (Debian package uidmap), which is not installed",
                               stage: "write id maps")
        }
        let arguments = [tool, String(pid)] + maps.flatMap { [String($0.containerID), String($0.hostID), String($0.size)] }
        let result = try Spawner.run(arguments, executable: path, timeout: 30)
        if result.status != 0 {
            let output = result.output.trimmingWhitespace()
            throw RuntimeError(.system, "\(field): \(arguments.joined(separator: " ")) failed (exit \(result.status)): \(output)",
                               stage: "write id maps")
        }
    }

    /// Whether `resources` asks for a limit a cgroup must enforce (anything but the device list, which a user
    /// namespace enforces by itself: it cannot make device nodes). Without one, a rootless container runs without
    /// cgroups it may not create (runc's rule).
    static func asksForLimits(_ resources: Resources?) -> Bool {
        guard let resources else { return false }
        return resources.memory != nil || resources.cpu != nil || (resources.pids.map { $0.limit != 0 } ?? false)
            || resources.blockIO != nil || !(resources.hugepageLimits ?? []).isEmpty || resources.network != nil
            || !(resources.rdma ?? [:]).isEmpty || !(resources.unified ?? [:]).isEmpty
    }
}
