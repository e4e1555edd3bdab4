import Foundation
import TetherTestSupport
import Testing

/// Issue 17: tether-shim started by an unprivileged user (its socket and the runtime's state under the user's
/// XDG_RUNTIME_DIR), forking the runtime library in rootless mode, driven through tether-harness as that user.
@Suite("rootless tether-shim")
struct RootlessShimTests {
    @Test(.enabled(if: RootlessUser.available, "needs root (to make a user), setpriv, useradd and the busybox rootfs"))
    func aUsersShimRunsAContainerDrivenByTheHarness() throws {
        let user = try RootlessUser()
        defer { user.remove() }
        let runtime = try user.install("tether-runtime")
        let harness = try user.install("tether-harness")
        _ = try user.install("tether-shim")
        let id = uniqueID("rlshim")
        let bundle = try RootlessRuntimeTests.bundle(user, runtime: runtime, args: ["/bin/sh", "-c", "echo hello; id -u; exit 7"])
        let work = user.directory.path + "/harness"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)
        try user.chownTree(work)
        let eventsSocket = work + "/events.sock"
        let output = work + "/out.log"

        // The events server runs as the user too (the shim connects to it as the user).
        let events = Process()
        events.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        events.arguments = ["--reuid", String(user.uid), "--regid", String(user.gid), "--init-groups", "--", harness, "events", "--listen", eventsSocket]
        events.standardOutput = FileHandle.nullDevice
        events.standardError = FileHandle.nullDevice
        events.standardInput = FileHandle.nullDevice
        try events.run()
        defer { if events.isRunning { kill(events.processIdentifier, SIGKILL); events.waitUntilExit() } }
        #expect(waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: eventsSocket) })

        let spawned = try user.runDetached([harness, "spawn", "--bundle", bundle, "--id", id, "--namespace", "tetherrl",
                                            "--events", eventsSocket, "--address", work + "/manager.sock"])
        #expect(spawned.status == 0, "\(spawned)")
        let address = spawned.stdout.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        #expect(address.contains(user.runtimeDirectory + "/tether/s/"), "address \(address)")
        func rpc(_ command: String, _ extra: [String] = []) throws -> CommandResult {
            try user.run([harness, command, "--socket", address, "--id", id] + extra)
        }
        defer {
            _ = try? rpc("kill", ["--signal", "SIGKILL", "--all"])
            _ = try? rpc("delete")
            _ = try? rpc("shutdown", ["--now"])
        }
        let connect = ShimHarnessFixture.json(try rpc("connect").stdout)
        let shimPid = (connect["shim_pid"] as? Int) ?? 0
        let shimStatus = (try? String(contentsOfFile: "/proc/\(shimPid)/status", encoding: .utf8)) ?? ""
        #expect(shimPid > 0 && shimStatus.contains("Uid:\t\(user.uid)\t"), "shim \(shimPid): \(shimStatus)")

        let created = try rpc("create", ["--bundle", bundle, "--stdout", "file://" + output])
        #expect(created.status == 0, "\(created)")
        let started = try rpc("start")
        #expect(started.status == 0, "\(started)")
        let waited = ShimHarnessFixture.json(try rpc("wait", ["--timeout", "30"]).stdout)
        #expect((waited["exit_status"] as? Int) == 7, "\(waited)")
        #expect(waitUntil(timeout: 5) { ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("hello\n0\n") },
                "output: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        let deleted = try rpc("delete")
        #expect(deleted.status == 0, "\(deleted)")
        // The runtime's state went under the user's runtime directory, and delete removed the container's.
        let runtimeRoot = user.runtimeDirectory + "/tether/runtime/tetherrl"
        #expect(FileManager.default.fileExists(atPath: runtimeRoot))
        #expect(!FileManager.default.fileExists(atPath: runtimeRoot + "/" + id))
        _ = try rpc("shutdown", ["--now"])
        #expect(waitUntil(timeout: 10) { !ProcStat.isAlive(Int32(shimPid)) }, "the shim did not exit")
    }
}
