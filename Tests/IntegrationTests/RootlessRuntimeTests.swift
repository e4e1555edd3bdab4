import Foundation
import TetherTestSupport
import Testing

/// Issue 17: tether-runtime as an unprivileged user, side by side with runc on the same bundle (each test makes its
/// own user, with /etc/subuid and /etc/subgid ranges, and removes it with everything it ran).
@Suite("rootless tether-runtime")
struct RootlessRuntimeTests {
    static let runc = "/usr/sbin/runc"
    static var available: Bool { RootlessUser.available && TestEnvironment.hasCommand(runc) }

    /// The two runtimes as the user runs them: our build (copied where the user can read it) and runc. Each keeps its
    /// state in its default root, under the user's XDG_RUNTIME_DIR.
    static func runtimes(_ user: RootlessUser) throws -> [String] {
        [try user.install("tether-runtime"), runc]
    }

    /// A bundle made by `<runtime> spec --rootless` as the user, with the busybox rootfs, changed by `configure`.
    static func bundle(_ user: RootlessUser, runtime: String, args: [String],
                       configure: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let path = user.directory.path + "/bundle-\(UInt32.random(in: 0..<UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try user.copyRootfs(to: path + "/rootfs")
        try user.chownTree(path)
        let spec = try user.run([runtime, "spec", "--rootless"], in: path)
        guard spec.status == 0 else { throw RootlessUserError("\(runtime) spec --rootless: \(spec)") }
        var config = try readConfig(path)
        var process = config["process"] as? [String: Any] ?? [:]
        process["terminal"] = false
        process["args"] = args
        config["process"] = process
        configure(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path + "/config.json"))
        try user.chownTree(path + "/config.json")
        return path
    }

    static func readConfig(_ bundle: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))) as? [String: Any] ?? [:]
    }

    static func addMount(_ config: inout [String: Any], _ mount: [String: Any]) {
        config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []) + [mount]
    }

    static func name(_ runtime: String) -> String { (runtime as NSString).lastPathComponent }

    @Test(.enabled(if: RootlessRuntimeTests.available, "needs root (to make a user), setpriv, useradd, the busybox rootfs and runc"))
    func specRootlessWritesRuncsTemplate() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        var configs: [[String: Any]] = []
        for runtime in try Self.runtimes(user) {
            let directory = user.directory.path + "/spec-" + Self.name(runtime)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try user.chownTree(directory)
            let result = try user.run([runtime, "spec", "--rootless"], in: directory)
            #expect(result.status == 0, "\(Self.name(runtime)): \(result)")
            configs.append(try Self.readConfig(directory))
        }
        guard configs.count == 2 else { return }
        let (ours, theirs) = (configs[0], configs[1])
        let own = [["containerID": 0, "hostID": Int(user.uid), "size": 1]]
        for config in configs {
            let linux = config["linux"] as? [String: Any] ?? [:]
            let namespaces = (linux["namespaces"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
            #expect(namespaces.contains("user") && !namespaces.contains("network"), "\(namespaces)")
            #expect((linux["uidMappings"] as? [[String: Int]]) == own)
            #expect((linux["gidMappings"] as? [[String: Int]]) == [["containerID": 0, "hostID": Int(user.gid), "size": 1]])
            #expect(linux["resources"] == nil)
            let mounts = config["mounts"] as? [[String: Any]] ?? []
            let sys = mounts.first { $0["destination"] as? String == "/sys" }
            #expect(sys?["source"] as? String == "/sys")
            #expect(sys?["options"] as? [String] == ["rbind", "nosuid", "noexec", "nodev", "ro"])
            #expect(!mounts.contains { ($0["options"] as? [String] ?? []).contains { $0.hasPrefix("gid=") || $0.hasPrefix("uid=") } })
        }
        // The same mounts, in the same order, as runc's template.
        let destinations = { (config: [String: Any]) in (config["mounts"] as? [[String: Any]] ?? []).compactMap { $0["destination"] as? String } }
        #expect(destinations(ours) == destinations(theirs))
    }

    @Test(.enabled(if: RootlessRuntimeTests.available, "needs root (to make a user), setpriv, useradd, the busybox rootfs and runc"))
    func runIsRootInsideAndPassesTheExitCode() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        for runtime in try Self.runtimes(user) {
            let bundle = try Self.bundle(user, runtime: runtime, args: ["/bin/sh", "-c", "id -u; id -g; cat /proc/self/uid_map; exit 3"])
            let result = try user.run([runtime, "run", "-b", bundle, uniqueID("rl")])
            #expect(result.status == 3, "\(Self.name(runtime)): \(result)")
            let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            #expect(lines == ["0", "0", "0 \(user.uid) 1"], "\(Self.name(runtime)): \(result)")
            #expect(try user.run([runtime, "list", "-q"]).stdout.isEmpty, "\(Self.name(runtime)) left a container")
        }
        // Our state went to the user's runtime directory, nowhere else.
        #expect(FileManager.default.fileExists(atPath: user.runtimeDirectory + "/tether-runtime"))
    }

    @Test(.enabled(if: RootlessRuntimeTests.available, "needs root (to make a user), setpriv, useradd, the busybox rootfs and runc"))
    func createStartStateExecKillDelete() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        for runtime in try Self.runtimes(user) {
            let label = Self.name(runtime)
            let bundle = try Self.bundle(user, runtime: runtime, args: ["/bin/sleep", "300"])
            let id = uniqueID("rl")
            let created = try user.runDetached([runtime, "create", "-b", bundle, id])
            #expect(created.status == 0, "\(label): \(created)")
            defer { _ = try? user.run([runtime, "delete", "-f", id]) }
            func state() throws -> [String: Any] {
                let result = try user.run([runtime, "state", id])
                return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
            }
            #expect(try state()["status"] as? String == "created", "\(label)")
            let started = try user.run([runtime, "start", id])
            #expect(started.status == 0, "\(label): \(started)")
            #expect(try state()["status"] as? String == "running", "\(label)")
            let pid = try state()["pid"] as? Int ?? 0
            // The init runs as the user on the host, as root inside.
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            #expect(status.contains("Uid:\t\(user.uid)\t"), "\(label): \(status)")

            let exec = try user.run([runtime, "exec", id, "/bin/sh", "-c", "id -u; exit 5"])
            #expect(exec.status == 5, "\(label): \(exec)")
            #expect(exec.stdout == "0\n", "\(label): \(exec)")

            let killed = try user.run([runtime, "kill", id, "KILL"])
            #expect(killed.status == 0, "\(label): \(killed)")
            #expect(waitUntil(timeout: 10) { (try? state()["status"] as? String) == "stopped" }, "\(label)")
            let deleted = try user.run([runtime, "delete", id])
            #expect(deleted.status == 0, "\(label): \(deleted)")
            #expect(try user.run([runtime, "state", id]).status != 0, "\(label)")
        }
    }

    /// Several ranges go through newuidmap/newgidmap: 0 is the user, 1-65536 its subordinate ids. A file chowned to
    /// 1000:1000 inside lands on the host as the 1000th subordinate id (start + 999).
    @Test(.enabled(if: RootlessRuntimeTests.available && RootlessUser.hasMappingTools,
                   "needs newuidmap/newgidmap (Debian package uidmap), root, setpriv, useradd, the busybox rootfs and runc"))
    func multiRangeMappingThroughNewuidmap() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        for runtime in try Self.runtimes(user) {
            let label = Self.name(runtime)
            let shared = user.directory.path + "/shared-" + label
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
            try user.chownTree(shared)
            let size = min(user.subordinateUIDs.count, user.subordinateGIDs.count, 65536)
            let bundle = try Self.bundle(user, runtime: runtime, args: [
                "/bin/sh", "-c", "touch /data/f && chown 1000:1000 /data/f && ls -ln /data/f && cat /proc/self/uid_map /proc/self/gid_map",
            ]) { config in
                var linux = config["linux"] as? [String: Any] ?? [:]
                linux["uidMappings"] = [["containerID": 0, "hostID": Int(user.uid), "size": 1],
                                        ["containerID": 1, "hostID": Int(user.subordinateUIDs.start), "size": Int(size)]]
                linux["gidMappings"] = [["containerID": 0, "hostID": Int(user.gid), "size": 1],
                                        ["containerID": 1, "hostID": Int(user.subordinateGIDs.start), "size": Int(size)]]
                config["linux"] = linux
                var process = config["process"] as? [String: Any] ?? [:]
                let capabilities = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"]
                process["capabilities"] = ["bounding": capabilities, "effective": capabilities, "permitted": capabilities]
                config["process"] = process
                Self.addMount(&config, ["destination": "/data", "type": "bind", "source": shared, "options": ["rbind", "rw"]])
            }
            let result = try user.run([runtime, "run", "-b", bundle, uniqueID("rl")])
            #expect(result.status == 0, "\(label): \(result)")
            #expect(result.stdout.contains(" 1000 ") , "\(label): \(result)")
            let attributes = try? FileManager.default.attributesOfItem(atPath: shared + "/f")
            #expect((attributes?[.ownerAccountID] as? NSNumber)?.uint32Value == user.subordinateUIDs.start + 999, "\(label): \(String(describing: attributes))")
            #expect((attributes?[.groupOwnerAccountID] as? NSNumber)?.uint32Value == user.subordinateGIDs.start + 999, "\(label)")
        }
    }

    /// Root inside is the user outside: a root-owned host file bound in read-write stays unwritable, /proc/sys stays
    /// read-only, and the host's hostname is not the container's to change.
    @Test(.enabled(if: RootlessRuntimeTests.available, "needs root (to make a user), setpriv, useradd, the busybox rootfs and runc"))
    func aRootlessContainerGainsNothingTheUserLacks() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        let hostFile = user.directory.path + "/root-owned"
        try "host\n".write(toFile: hostFile, atomically: false, encoding: .utf8)
        chmod(hostFile, 0o644)
        for runtime in try Self.runtimes(user) {
            let label = Self.name(runtime)
            let bundle = try Self.bundle(user, runtime: runtime, args: [
                "/bin/sh", "-c",
                "echo owned >> /host-file && echo WROTE-HOST-FILE; chmod 666 /host-file && echo CHMOD-HOST-FILE; "
                    + "echo 1 > /proc/sys/kernel/sysrq && echo WROTE-PROC-SYS; "
                    + "grep -q ' /proc/sys ro,' /proc/self/mountinfo && echo PROC-SYS-RO; exit 0",
            ]) { config in
                Self.addMount(&config, ["destination": "/host-file", "type": "bind", "source": hostFile, "options": ["bind", "rw"]])
            }
            let result = try user.run([runtime, "run", "-b", bundle, uniqueID("rl")])
            #expect(result.status == 0, "\(label): \(result)")
            #expect(!result.stdout.contains("WROTE-HOST-FILE") && !result.stdout.contains("CHMOD-HOST-FILE"), "\(label): \(result)")
            #expect(!result.stdout.contains("WROTE-PROC-SYS"), "\(label): \(result)")
            #expect(result.stdout.contains("PROC-SYS-RO"), "\(label): \(result)")
            #expect(try String(contentsOfFile: hostFile, encoding: .utf8) == "host\n", "\(label)")
            let mode = (try FileManager.default.attributesOfItem(atPath: hostFile)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o644, "\(label)")
        }
    }

    /// runc's rule: a limit the user cannot set (no writable cgroup) fails create, naming why; nothing is left.
    @Test(.enabled(if: RootlessRuntimeTests.available, "needs root (to make a user), setpriv, useradd, the busybox rootfs and runc"))
    func limitsWithoutADelegatedCgroupFailClearly() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        let writable = ControlGroupProbe.userCanCreateCgroups(user)
        for runtime in try Self.runtimes(user) {
            let label = Self.name(runtime)
            let bundle = try Self.bundle(user, runtime: runtime, args: ["/bin/true"]) { config in
                var linux = config["linux"] as? [String: Any] ?? [:]
                linux["resources"] = ["memory": ["limit": 64 << 20]]
                config["linux"] = linux
            }
            let result = try user.run([runtime, "run", "-b", bundle, uniqueID("rl")])
            if writable { continue }
            #expect(result.status != 0, "\(label): \(result)")
            if runtime != Self.runc {
                #expect(result.stderr.contains("linux.resources") && result.stderr.contains("no permission"), "\(result)")
            }
            #expect(try user.run([runtime, "list", "-q"]).stdout.isEmpty, "\(label) left a container")
        }
    }
}

enum ControlGroupProbe {
    /// Whether `user` may write the memory cgroup it runs in (v1 memory, or v2 on a v2-only host): a delegated
    /// subtree, where limits are expected to work rather than fail.
    static func userCanCreateCgroups(_ user: RootlessUser) -> Bool {
        let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        var directories: [String] = []
        for line in own.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains("memory") { directories.append("/sys/fs/cgroup/memory" + parts[2]) }
            if parts[0] == "0" && parts[1].isEmpty && !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory") {
                directories.append("/sys/fs/cgroup" + parts[2])
            }
        }
        return directories.contains { directory in
            (try? user.run(["/bin/sh", "-c", "test -w \"$0\"", directory]))?.status == 0
        }
    }
}
