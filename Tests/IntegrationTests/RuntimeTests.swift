import Foundation
import Testing
import TetherTestSupport

/// Issue 2: the runc-compatible CLI against the real kernel, on the busybox rootfs.
@Suite("tether-runtime")
struct RuntimeTests {
    static var runtime: String { TestEnvironment.binary("tether-runtime") }

    /// A bundle plus a private --root for one test.
    final class Fixture {
        let directory: TemporaryDirectory
        var root: String { directory.path + "/root" }
        var bundle: String { directory.path + "/bundle" }

        init(args: [String], configure: (inout [String: Any]) -> Void = { _ in }) throws {
            directory = try TemporaryDirectory("tether-rt")
            try BundleFixture.write(to: directory.path + "/bundle", args: args, configure: configure)
        }

        @discardableResult
        func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> CommandResult {
            try runCommand(RuntimeTests.runtime, ["--root", root] + arguments, timeout: timeout)
        }

        /// For commands that leave a container process behind (create, run -d): spawned without Foundation's
        /// Process (whose hidden exit-notification fd the waiting init would inherit and hold), output to a file.
        @discardableResult
        func runDetached(_ arguments: [String]) throws -> CommandResult {
            let log = directory.path + "/detached.log"
            let quoted = ([RuntimeTests.runtime, "--root", root] + arguments).map { "'\($0)'" }.joined(separator: " ")
            let (result, _) = try TTRPCInteropTests.spawnAndWait(
                ["/bin/sh", "-c", "exec \(quoted) </dev/null >'\(log)' 2>&1"], directory: directory.path,
                environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return CommandResult(status: result.status, stdout: output, stderr: output)
        }

        func state(_ id: String) throws -> [String: Any]? {
            let result = try run(["state", id])
            guard result.status == 0 else { return nil }
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        }
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"),
          arguments: [(["/bin/true"], Int32(0)), (["/bin/sh", "-c", "exit 7"], Int32(7))])
    func runReturnsTheExitCode(args: [String], expected: Int32) throws {
        let fixture = try Fixture(args: args)
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.status == expected, "\(result)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aSIGKILLedInitGives137() throws {
        let fixture = try Fixture(args: ["/bin/sleep", "100"])
        let id = uniqueID()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.runtime)
        process.arguments = ["--root", fixture.root, "run", "-b", fixture.bundle, id]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var running = false
        for _ in 0..<200 where !running {
            running = (try fixture.state(id)?["status"] as? String) == "running"
            if !running { usleep(20_000) }
        }
        #expect(running)
        #expect(try fixture.run(["kill", id, "KILL"]).status == 0)
        process.waitUntilExit()
        #expect(process.terminationStatus == 137)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func theProcessIsPID1WithTheConfiguredHostnameAndSeesOnlyItsProcesses() throws {
        let fixture = try Fixture(args: ["/bin/sh", "-c", "echo $$; hostname; ps -o pid | tail -n +2 | wc -l"]) {
            $0["hostname"] = "tether-box"
        }
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        let lines = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(result.status == 0, "\(result)")
        #expect(lines.first == "1", "\(result)")
        #expect(lines.dropFirst().first == "tether-box", "\(result)")
        // sh, ps, tail, wc: nothing from the host.
        #expect((Int(lines.last ?? "") ?? 99) <= 4, "\(result)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func createStartStateDeleteLifecycle() throws {
        let fixture = try Fixture(args: ["/bin/sh", "-c", "sleep 1"])
        let id = uniqueID()
        let create = try fixture.runDetached(["create", "-b", fixture.bundle, id])
        #expect(create.status == 0, "\(create)")
        let created = try fixture.state(id)
        #expect(created?["status"] as? String == "created")
        let pid = Int32(created?["pid"] as? Int ?? 0)
        #expect(pid > 0 && processIsAlive(pid))
        let cgroups = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
        let pidsCgroup = cgroups.split(separator: "\n").first { $0.contains(":pids:") }?.split(separator: ":").last.map(String.init)
        #expect(try fixture.run(["start", id]).status == 0)
        #expect(try fixture.state(id)?["status"] as? String == "running")
        let refused = try fixture.run(["delete", id])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("not stopped"), "\(refused)")
        var stopped = false
        for _ in 0..<300 where !stopped {
            stopped = (try fixture.state(id)?["status"] as? String) == "stopped"
            if !stopped { usleep(20_000) }
        }
        #expect(stopped)
        #expect(try fixture.run(["delete", id]).status == 0)
        #expect(try fixture.state(id) == nil)
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/" + id))
        if let pidsCgroup {
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids" + pidsCgroup), "cgroup \(pidsCgroup) left behind")
        }
    }

    /// A corrupt state.json is reported with the file and the JSON path at fault (the record is read by
    /// OCISpec's JSONReadable readers, not Codable).
    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aCorruptStateNamesTheFileAndTheJSONPath() throws {
        let directory = try TemporaryDirectory("tether-rt")
        let root = directory.path + "/root"
        let id = uniqueID()
        let valid = #""id":"\#(id)","initPid":1,"initStartTime":1,"bundle":"/b","rootfs":"/b/rootfs","created":"c","owner":"","#
        let cases: [(String, String)] = [
            (#"{\#(valid)"cgroups":{"paths":{"memory":5}},"namespaces":[]}"#, "cgroups.paths.memory: expected a string"),
            (#"{\#(valid)"cgroups":{"paths":{}},"namespaces":[{"type":"pid"},{}]}"#, "namespaces[1].type: missing required field"),
            (#"{\#(valid)"cgroups":{"paths":{}},"namespaces":[],"process":{"user":{"uid":0,"gid":0}}}"#,
             "process.cwd: missing required field"),
            (#"{\#(valid)"cgroups":{"paths":{}},"namespaces":[],"resources":{"pids":{"limit":"x"}}}"#,
             "resources.pids.limit: expected an integer"),
            (#"{\#(valid)"cgroups":{"paths":{}}}"#, "namespaces: missing required field"),
            (#"{"id":"\#(id)","initPid":"#, "invalid JSON: unexpected end of input at byte \(id.utf8.count + 19)"),
        ]
        try FileManager.default.createDirectory(atPath: root + "/" + id, withIntermediateDirectories: true)
        for (json, expected) in cases {
            try Data(json.utf8).write(to: URL(fileURLWithPath: root + "/" + id + "/state.json"))
            let result = try runCommand(Self.runtime, ["--root", root, "state", id])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("\(root)/\(id)/state.json: unreadable state: \(expected)"), "\(result)")
        }
        // The same document made valid reads (an init that is not there: stopped).
        try Data(#"{\#(valid)"cgroups":{"paths":{}},"namespaces":[]}"#.utf8).write(to: URL(fileURLWithPath: root + "/" + id + "/state.json"))
        let state = try runCommand(Self.runtime, ["--root", root, "state", id])
        #expect(state.status == 0 && state.stdout.replacingOccurrences(of: " ", with: "").contains(#""status":"stopped""#), "\(state)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func killingTheInitFromOutsideStopsTheContainer() throws {
        let fixture = try Fixture(args: ["/bin/sleep", "100"])
        let id = uniqueID()
        #expect(try fixture.runDetached(["run", "-d", "-b", fixture.bundle, id]).status == 0)
        let pid = Int32(try fixture.state(id)?["pid"] as? Int ?? 0)
        #expect(pid > 0)
        kill(pid, SIGKILL)
        var stopped = false
        for _ in 0..<300 where !stopped {
            stopped = (try fixture.state(id)?["status"] as? String) == "stopped"
            if !stopped { usleep(20_000) }
        }
        #expect(stopped)
        #expect(try fixture.run(["delete", id]).status == 0)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func pid1IgnoresSIGTERMWithoutAHandler() throws {
        let fixture = try Fixture(args: ["/bin/sh", "-c", "kill -TERM 1; sleep 0.2; echo alive"])
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.stdout == "alive\n", "\(result)")
        #expect(result.status == 0)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execJoinsTheContainer() throws {
        let fixture = try Fixture(args: ["/bin/sleep", "100"]) { $0["hostname"] = "exec-box" }
        let id = uniqueID()
        #expect(try fixture.runDetached(["run", "-d", "-b", fixture.bundle, id]).status == 0)
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        let exec = try fixture.run(["exec", id, "/bin/sh", "-c", "echo $(hostname) $$; exit 4"])
        #expect(exec.status == 4, "\(exec)")
        let fields = exec.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(fields.first == "exec-box", "\(exec)")
        #expect(fields.last != "1", "an exec'd process is not PID 1: \(exec)")
        #expect(try fixture.state(id)?["status"] as? String == "running")
    }

    /// The hand-written argv parser (runc's flag rules): usage errors are one line naming the argument, exit 2;
    /// `--flag=value`, one-dash long names and `--flag=false` are read as runc reads them; help and version.
    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func theCommandLineIsParsedAsRuncDoes() throws {
        let fixture = try Fixture(args: ["/bin/true"])
        for (arguments, mention) in [(["run", "--bogus", "x"], "run: unknown flag --bogus"), (["state"], "state: missing ID"),
                                     (["kill", "a", "b", "c"], "unexpected argument \"c\""),
                                     (["run", "-b"], "run: -b needs a value"),
                                     (["run", "--preserve-fds", "x", "id"], "--preserve-fds: \"x\" is not a valid integer"),
                                     (["frobnicate"], "unknown command \"frobnicate\""),
                                     (["run", "--detach=maybe", "id"], "--detach takes no value")] {
            let result = try fixture.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result)")
            #expect(result.stderr.contains(mention), "\(arguments) should mention \(mention): \(result)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one error line: \(result)")
        }
        let id = uniqueID()
        let run = try fixture.run(["run", "-bundle", fixture.bundle, "--keep=true", "--detach=false", id])
        #expect(run.status == 0, "\(run)")
        #expect(try fixture.state(id)?["status"] as? String == "stopped", "--keep=true kept it")
        #expect(try fixture.run(["delete", id, "--force=true"]).status == 0)
        let help = try fixture.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("Commands:") && help.stdout.contains("exec"), "\(help)")
        let execHelp = try fixture.run(["exec", "--help"])
        #expect(execHelp.status == 0 && execHelp.stdout.contains("-p, --process FILE"), "\(execHelp)")
        let version = try fixture.run(["--version"])
        #expect(version.status == 0 && version.stdout.contains("spec: "), "\(version)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func badInputGetsOneClearErrorAndLeavesNothing() throws {
        let fixture = try Fixture(args: ["/bin/true"])
        func expectFailure(_ arguments: [String], mentions text: String) throws {
            let result = try fixture.run(arguments)
            #expect(result.status != 0, "\(arguments): \(result)")
            #expect(result.stderr.contains(text), "\(arguments) should mention \(text): \(result)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one error line: \(result)")
        }
        let empty = fixture.directory.path + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try expectFailure(["run", "-b", empty, uniqueID()], mentions: "config.json")
        let broken = fixture.directory.path + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try "{\"ociVersion\": \"1.2.0\", \"process\": {".write(toFile: broken + "/config.json", atomically: true, encoding: .utf8)
        try expectFailure(["run", "-b", broken, uniqueID()], mentions: "config.json")
        let noArgs = fixture.directory.path + "/noargs"
        try BundleFixture.write(to: noArgs, args: [])
        try expectFailure(["run", "-b", noArgs, uniqueID()], mentions: "process.args")
        let badNamespace = fixture.directory.path + "/badns"
        try BundleFixture.write(to: badNamespace, args: ["/bin/true"]) {
            var linux = $0["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "foo"]]
            $0["linux"] = linux
        }
        try expectFailure(["run", "-b", badNamespace, uniqueID()], mentions: "linux.namespaces[2]")
        let noRootfs = fixture.directory.path + "/norootfs"
        try BundleFixture.write(to: noRootfs, args: ["/bin/true"]) { $0["root"] = ["path": "/nonexistent/rootfs"] }
        try expectFailure(["run", "-b", noRootfs, uniqueID()], mentions: "/nonexistent/rootfs")
        try expectFailure(["state", "no-such-container"], mentions: "no-such-container")
        let id = uniqueID()
        let sleeper = fixture.directory.path + "/sleeper"
        try BundleFixture.write(to: sleeper, args: ["/bin/sleep", "100"])
        #expect(try fixture.runDetached(["create", "-b", sleeper, id]).status == 0)
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        try expectFailure(["create", "-b", sleeper, id], mentions: "already exists")
        // Nothing but the one container's state is left under --root.
        let left = try FileManager.default.contentsOfDirectory(atPath: fixture.root)
        #expect(left == [id], "\(left)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aContainerIDOutsideRuncsRuleIsRefusedAndNeverPrintedRaw() throws {
        let fixture = try Fixture(args: ["/bin/true"])
        for id in ["a/b", "..", "", "x\nFORGED line", "\u{1b}[2J"] {
            let result = try fixture.run(["run", "-b", fixture.bundle, id])
            #expect(result.status != 0, "\(id.debugDescription): \(result)")
            #expect(result.stderr.contains("invalid container id") && result.stderr.contains("[a-zA-Z0-9_+.-]"), "\(result)")
            #expect(!result.stderr.contains("\nFORGED") && !result.stderr.contains("\u{1b}"), "raw: \(result.stderr.debugDescription)")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: fixture.root)) ?? []).isEmpty)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers && PrivateContainerd.isInstalled,
                   "needs root, the busybox rootfs and Debian's containerd"))
    func containerdShimRuncV2DrivesTetherRuntime() throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let run = try containerd.ctr(["run", "--runc-binary", Self.runtime, "--rm", "--rootfs", TestEnvironment.rootfs,
                                      uniqueID("i"), "/bin/sh", "-c", "echo hi; exit 3"])
        #expect(run.stdout == "hi\n", "\(run)")
        #expect(run.status == 3, "\(run)")
        let id = uniqueID("e")
        #expect(try containerd.ctr(["run", "-d", "--runc-binary", Self.runtime, "--rootfs", TestEnvironment.rootfs, id,
                                    "/bin/sleep", "100"]).status == 0)
        let exec = try containerd.ctr(["task", "exec", "--exec-id", "x1", id, "/bin/sh", "-c", "echo exec-ok; exit 6"])
        #expect(exec.stdout == "exec-ok\n", "\(exec)")
        #expect(exec.status == 6, "\(exec)")
    }
}
