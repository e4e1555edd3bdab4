import Foundation
import TetherTestSupport
import Testing

/// Issue 17: rootless podman (Debian's 4.3, as a user with /etc/subuid and /etc/subgid ranges) with tether-runtime
/// as its runtime, side by side with runc. podman's storage, run root and tmp dir are in the user's temp dir (vfs),
/// and no network; the user and everything it ran are removed afterwards.
@Suite("rootless podman with tether-runtime and runc")
struct RootlessPodmanTests {
    static var canRun: Bool {
        RootlessRuntimeTests.available && RootlessUser.hasMappingTools && TestEnvironment.hasCommand(PodmanParityTests.podmanPath)
            && RuntimeInteropTests.conmonInstalled
    }

    /// podman as the user, with private storage; output through files (conmon stays behind podman).
    static func podman(_ user: RootlessUser, runtime: String, _ arguments: [String]) throws -> CommandResult {
        let base = user.directory.path + "/podman"
        let global = ["--root", base + "/root", "--runroot", base + "/runroot", "--tmpdir", base + "/tmp", "--storage-driver", "vfs",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", runtime]
        let result = try user.runDetached([PodmanParityTests.podmanPath] + global + arguments)
        return result
    }

    @Test(.enabled(if: RootlessPodmanTests.canRun,
                   "needs root (to make a user), setpriv, useradd, newuidmap (uidmap), the busybox rootfs, runc, conmon and podman"))
    func podmanRunsRootlessWithBothRuntimes() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        let base = user.directory.path + "/podman"
        for sub in ["", "/root", "/runroot", "/tmp"] {
            try FileManager.default.createDirectory(atPath: base + sub, withIntermediateDirectories: true)
        }
        try user.chownTree(base)
        let tarball = base + "/rootfs.tar"
        let tar = try runCommand("/bin/tar", ["-C", TestEnvironment.rootfs, "-cf", tarball, "."])
        #expect(tar.status == 0, "\(tar)")
        try user.chownTree(tarball)
        let image = "localhost/tether-busybox:rootless"
        let ours = try user.install("tether-runtime")
        let imported = try Self.podman(user, runtime: ours, ["import", tarball, image])
        #expect(imported.status == 0, "\(imported)")
        let options = ["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
        for runtime in [ours, RootlessRuntimeTests.runc] {
            let label = RootlessRuntimeTests.name(runtime)
            let plain = try Self.podman(user, runtime: runtime, ["run", "--rm"] + options + [image, "/bin/sh", "-c", "id -u; exit 3"])
            #expect(plain.status == 3, "\(label): \(plain)")
            #expect(plain.stdout.hasSuffix("0\n"), "\(label): \(plain)")

            let name = "rl-" + label
            let detached = try Self.podman(user, runtime: runtime, ["run", "-d", "--name", name] + options + [image, "/bin/sleep", "300"])
            #expect(detached.status == 0, "\(label): \(detached)")
            let exec = try Self.podman(user, runtime: runtime, ["exec", name, "/bin/sh", "-c", "id -u; exit 5"])
            #expect(exec.status == 5, "\(label): \(exec)")
            #expect(exec.stdout.hasSuffix("0\n"), "\(label): \(exec)")
            let removed = try Self.podman(user, runtime: runtime, ["rm", "-f", "-t", "0", name])
            #expect(removed.status == 0, "\(label): \(removed)")
            let left = try Self.podman(user, runtime: runtime, ["ps", "-aq"])
            #expect(left.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("time=") || $0.isEmpty }, "\(label): \(left)")
        }
        _ = try? Self.podman(user, runtime: ours, ["rm", "-af", "-t", "0"])
        _ = try? Self.podman(user, runtime: ours, ["rmi", "-af"])
    }
}
