import Foundation
import TetherTestSupport
import Testing

/// Issue 17: tetherd as an unprivileged user, with its defaults: state under $XDG_RUNTIME_DIR/tether, records and
/// overlay layers under ~/.local/share/tether, containers in a user namespace with the overlay mounted inside it;
/// tetherctl finds that tetherd without being told. Nothing is written outside the user's directories.
@Suite("rootless tetherd")
struct RootlessDaemonTests {
    /// Files the user (or an id of its containers) owns under the system directories a root tetherd uses: none
    /// when a user's tetherd leaves them alone (other tests' root-owned entries come and go meanwhile).
    static func userEntries(_ user: RootlessUser) throws -> String {
        let directories = ["/run/tether", "/var/lib/tether", "/run/tether-runtime"].filter { FileManager.default.fileExists(atPath: $0) }
        guard !directories.isEmpty else { return "" }
        let found = try runCommand("/usr/bin/find", directories + ["-xdev", "-uid", String(user.uid)])
        return found.stdout
    }

    @Test(.enabled(if: RootlessUser.available, "needs root (to make a user), setpriv, useradd and the busybox rootfs"))
    func aUsersTetherdRunsContainers() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        let tetherd = try user.install("tetherd")
        let tetherctl = try user.install("tetherctl")
        _ = try user.install("tether-shim")
        let image = user.directory.path + "/image"
        try user.copyRootfs(to: image)
        let socket = user.runtimeDirectory + "/tether/tetherd.sock"

        let started = try user.runDetached(["/bin/sh", "-c", "\"$0\" >\"$HOME/tetherd.log\" 2>&1 & echo $! > \"$HOME/tetherd.pid\"", tetherd])
        #expect(started.status == 0, "\(started)")
        let daemonPid = Int32((try? String(contentsOfFile: user.home + "/tetherd.pid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        defer { if daemonPid > 0 { kill(daemonPid, SIGTERM) } }
        let log = { (try? String(contentsOfFile: user.home + "/tetherd.log", encoding: .utf8)) ?? "" }
        #expect(waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: socket) }, "no socket; tetherd: \(log())")

        let ran = try user.run([tetherctl, "run", "--rm", image, "/bin/sh", "-c", "id -u; echo x > /written && cat /written; exit 4"])
        #expect(ran.status == 4, "\(ran)\ntetherd: \(log())")
        #expect(ran.stdout == "0\nx\n", "\(ran)")
        #expect(!FileManager.default.fileExists(atPath: image + "/written"), "the image was written to")

        let detached = try user.run([tetherctl, "run", "-d", "--name", "rlweb", image, "/bin/sh", "-c", "echo ready; exec sleep 300"])
        #expect(detached.status == 0, "\(detached)\ntetherd: \(log())")
        #expect(waitUntil(timeout: 10) { ((try? user.run([tetherctl, "logs", "rlweb"]))?.stdout ?? "") == "ready\n" },
                "logs: \(String(describing: try? user.run([tetherctl, "logs", "rlweb"])))")
        let exec = try user.run([tetherctl, "exec", "rlweb", "/bin/sh", "-c", "id -u"])
        #expect(exec.status == 0 && exec.stdout == "0\n", "\(exec)")
        let stopped = try user.run([tetherctl, "stop", "rlweb"], timeout: 60)
        #expect(stopped.status == 0, "\(stopped)")
        let removed = try user.run([tetherctl, "rm", "rlweb"])
        #expect(removed.status == 0, "\(removed)")
        #expect(try user.run([tetherctl, "ps", "-a", "-q"]).stdout.isEmpty)

        // Its state and records are the user's; root's directories are as they were.
        #expect(FileManager.default.fileExists(atPath: user.home + "/.local/share/tether"))
        let written = try Self.userEntries(user)
        #expect(written.isEmpty, "written by the user in root's directories: \(written)")
        // No overlay of the user's is left mounted anywhere on the host.
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        #expect(!mounts.contains(user.directory.path), "\(mounts)")
    }
}
