import Foundation
import Testing
import TetherSystem
import TetherTestSupport

/// Issue 4, interop: the monitors that drive runc drive tether-runtime in its place — Debian's conmon (as Podman
/// and CRI-O run it) and containerd-shim-runc-v2 (`ctr task exec`).
@Suite("tether-runtime interop")
struct RuntimeInteropTests {
    static let conmon = "/usr/bin/conmon"
    static var conmonInstalled: Bool { TestEnvironment.hasCommand(conmon) }

    static func contents(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// conmon as Podman drives it (api-version 1, k8s-file log, exit dir, persist dir): it daemonizes, runs
    /// `tether-runtime --root=R create --bundle B --pid-file P ID`, reports the pid on `_OCI_SYNCPIPE`, and once
    /// `start` ran writes the exit code to `--exit-dir/ID` and `--persist-dir/exit` and the output to the log.
    /// The sync "pipe" is a file here: conmon only writes its JSON line to the descriptor.
    @Test(.enabled(if: TestEnvironment.canRunContainers && RuntimeInteropTests.conmonInstalled,
                   "needs root, the busybox rootfs and conmon (/usr/bin/conmon, Debian package conmon)"))
    func conmonRunsAContainerThroughTetherRuntime() throws {
        let fixture = try RuntimeTests.Fixture(args: ["/bin/sh", "-c", "echo hello; echo to-stderr >&2; exit 3"])
        let dir = fixture.directory.path
        let id = uniqueID("c")
        for sub in ["exit", "sockets", "persist"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        defer {
            // conmon outlives a failed test only while its container runs: kill it, then the container.
            if let pid = Int32(Self.contents(dir + "/conmon.pid").trimmingCharacters(in: .whitespacesAndNewlines)),
               Self.contents("/proc/\(pid)/comm").hasPrefix("conmon") {
                kill(pid, SIGKILL)
            }
            _ = try? fixture.run(["delete", "-f", id])
        }

        let arguments = [
            Self.conmon, "--api-version", "1", "-c", id, "-u", id, "-n", id, "-r", RuntimeTests.runtime,
            "--runtime-arg", "--root=\(fixture.root)", "-b", fixture.bundle, "-p", dir + "/container.pid",
            "-P", dir + "/conmon.pid", "-l", "k8s-file:\(dir)/container.log", "--exit-dir", dir + "/exit",
            "--socket-dir-path", dir + "/sockets", "-0", dir + "/persist", "--log-level", "debug",
        ]
        let command = "exec 5>'\(dir)/sync.json'; _OCI_SYNCPIPE=5 exec " + arguments.map { "'\($0)'" }.joined(separator: " ")
            + " </dev/null >'\(dir)/conmon.out' 2>&1"
        let (launched, _) = try TTRPCInteropTests.spawnAndWait(
            ["/bin/sh", "-c", command], directory: dir, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        #expect(launched.status == 0, "conmon: \(launched)\n\(Self.contents(dir + "/conmon.out"))")

        // conmon's report once the runtime's create returned: {"data": <container pid>} (api-version 1).
        #expect(waitUntil(timeout: 60) { Self.contents(dir + "/sync.json").contains("}") },
                "no sync report; conmon: \(Self.contents(dir + "/conmon.out"))")
        let report = try? JSONSerialization.jsonObject(with: Data(Self.contents(dir + "/sync.json").utf8)) as? [String: Any]
        let pid = report?["data"] as? Int ?? -1
        #expect(pid > 0, "sync report: \(Self.contents(dir + "/sync.json"))")
        #expect(Self.contents(dir + "/container.pid").trimmingCharacters(in: .whitespacesAndNewlines) == String(pid))
        let created = try fixture.state(id)
        #expect(created?["status"] as? String == "created", "\(String(describing: created))")
        #expect(created?["pid"] as? Int == pid)

        let start = try fixture.run(["start", id])
        #expect(start.status == 0, "\(start)")
        #expect(waitUntil(timeout: 30) { !Self.contents(dir + "/exit/" + id).isEmpty },
                "no exit file; conmon: \(Self.contents(dir + "/conmon.out"))")
        #expect(Self.contents(dir + "/exit/" + id) == "3")
        #expect(Self.contents(dir + "/persist/exit") == "3")
        let log = Self.contents(dir + "/container.log")
        #expect(log.contains(" stdout F hello\n"), "log: \(log)")
        #expect(log.contains(" stderr F to-stderr\n"), "log: \(log)")
        #expect(try fixture.state(id)?["status"] as? String == "stopped")
        #expect(try fixture.run(["delete", id]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/" + id))
    }

    /// containerd-shim-runc-v2 with `--runc-binary` tether-runtime: a long-lived container, `ctr task exec` with
    /// its output and exit code, then kill and removal.
    @Test(.enabled(if: TestEnvironment.canRunContainers && PrivateContainerd.isInstalled,
                   "needs root, the busybox rootfs and containerd + ctr (Debian package containerd)"))
    func ctrTaskExecThroughContainerdShimRuncV2() throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let id = uniqueID("x")
        defer {
            _ = try? containerd.ctr(["task", "kill", "-s", "SIGKILL", id])
            _ = try? containerd.ctr(["task", "delete", "-f", id])
            _ = try? containerd.ctr(["container", "rm", id])
        }
        let run = try containerd.ctr(["run", "-d", "--runc-binary", RuntimeTests.runtime, "--rootfs", TestEnvironment.rootfs,
                                      id, "/bin/sleep", "100"])
        #expect(run.status == 0, "\(run)")

        let exec = try containerd.ctr(["task", "exec", "--exec-id", "from-test", id, "/bin/sh", "-c", "echo from-exec; exit 5"])
        #expect(exec.stdout == "from-exec\n", "\(exec)")
        #expect(exec.status == 5, "\(exec)")

        #expect(try containerd.ctr(["task", "kill", "-s", "SIGKILL", id]).status == 0)
        #expect(waitUntil(timeout: 20) { (try? containerd.ctr(["task", "delete", id]))?.status == 0 }, "task not deleted")
        #expect(try containerd.ctr(["container", "rm", id]).status == 0)
        #expect(try containerd.ctr(["container", "ls", "-q"]).stdout.split(separator: "\n").contains(Substring(id)) == false)
    }
}
