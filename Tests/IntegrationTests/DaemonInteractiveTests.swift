import Foundation
import Testing

/// Issue 7, second part: interactive containers, exec, create/start/restart, events, shared pid namespaces,
/// cgroup limits and the default security profile, through the real tetherctl and a private tetherd.
@Suite("tetherctl interactive, exec, lifecycle, limits and security", .serialized)
struct DaemonInteractiveTests {
    typealias DaemonFixture = DaemonTests.DaemonFixture
    static var rootfs: String { TestEnvironment.rootfs }


    static func state(_ daemon: DaemonFixture, _ name: String) throws -> [String: Any] {
        try daemon.inspect(name)["State"] as? [String: Any] ?? [:]
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func runInteractiveWithATerminal() throws {
        let daemon = try DaemonFixture()
        let terminal = try PseudoTerminal([TestEnvironment.binary("tetherctl"), "run", "--socket", daemon.socket, "-it", "--rm",
                                           Self.rootfs, "/bin/sh"], rows: 33, columns: 111)
        #expect(terminal.read(until: "# "), "no prompt: \(terminal.output)")
        try terminal.type("test -t 0 && echo TTY-YES; stty size; echo $((6*7)); exit 3\n")
        let status = terminal.wait()
        #expect(status == 3, "\(terminal.output)")
        #expect(terminal.output.contains("TTY-YES"), "\(terminal.output)")
        #expect(terminal.output.contains("33 111"), "\(terminal.output)")
        #expect(terminal.output.contains("42\r\n"), "\(terminal.output)")
        #expect(try daemon.ctl(["ps", "-a", "-q"]).stdout.isEmpty)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func runInteractiveWithPipedStdin() throws {
        let daemon = try DaemonFixture()
        let cat = try runCommand(TestEnvironment.binary("tetherctl"), ["run", "--socket", daemon.socket, "-i", "--rm",
                                                                       Self.rootfs, "/bin/cat"], stdin: "hi\n", timeout: 60)
        #expect(cat.stdout == "hi\n", "\(cat)")
        #expect(cat.status == 0, "\(cat)")
        // A tty container's output is kept in its log.
        let id = try daemon.ctl(["run", "-d", "-t", Self.rootfs, "/bin/sh", "-c", "echo in-a-tty; test -t 1 && echo tty-out"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try daemon.ctl(["wait", id])
        let logs = try daemon.ctl(["logs", id])
        #expect(logs.stdout == "in-a-tty\r\ntty-out\r\n", "\(logs)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execPrintsOutputAndPassesTheExitCode() throws {
        let daemon = try DaemonFixture()
        _ = try daemon.ctl(["run", "-d", "--name", "box", Self.rootfs, "/bin/sleep", "1000"])
        let exec = try daemon.ctl(["exec", "-e", "X=y", "-w", "/tmp", "box", "/bin/sh", "-c", "echo out $X $(pwd); echo err >&2; exit 4"])
        #expect(exec.stdout == "out y /tmp\n", "\(exec)")
        #expect(exec.stderr == "err\n", "\(exec)")
        #expect(exec.status == 4, "\(exec)")
        let user = try daemon.ctl(["exec", "-u", "1000:1001", "box", "/bin/sh", "-c", "echo $(id -u):$(id -g)"])
        #expect(user.stdout == "1000:1001\n", "\(user)")
        let piped = try runCommand(TestEnvironment.binary("tetherctl"), ["exec", "--socket", daemon.socket, "-i", "box", "/bin/cat"],
                                   stdin: "through stdin\n")
        #expect(piped.stdout == "through stdin\n", "\(piped)")
        let started = Date()
        let detached = try daemon.ctl(["exec", "-d", "box", "/bin/sleep", "77"])
        #expect(detached.status == 0, "\(detached)")
        #expect(Date().timeIntervalSince(started) < 5)
        let ps = try daemon.ctl(["exec", "box", "/bin/ps"])
        #expect(ps.stdout.contains("sleep 77"), "\(ps)")
        let missing = try daemon.ctl(["exec", "nope", "/bin/true"])
        #expect(missing.status != 0)
        #expect(missing.stderr == "tetherctl: no such container: nope\n", "\(missing)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func createStartAndRestart() throws {
        let daemon = try DaemonFixture()
        let create = try daemon.ctl(["create", "--name", "later", Self.rootfs, "/bin/sh", "-c", "echo started; exec sleep 1000"])
        #expect(create.status == 0, "\(create)")
        #expect(try Self.state(daemon, "later")["Status"] as? String == "created")
        #expect(try daemon.ctl(["start", "later"]).status == 0)
        let first = try Self.state(daemon, "later")
        #expect(first["Status"] as? String == "running")
        let restart = try daemon.ctl(["restart", "-t", "1", "later"])
        #expect(restart.status == 0, "\(restart)")
        let second = try Self.state(daemon, "later")
        #expect(second["Status"] as? String == "running", "\(second)")
        #expect(second["StartedAt"] as? String != first["StartedAt"] as? String)
        #expect(second["Pid"] as? Int != first["Pid"] as? Int)
        #expect(try daemon.ctl(["logs", "later"]).stdout == "started\nstarted\n")
        // start -a: the output of this run only, and its exit code.
        _ = try daemon.ctl(["create", "--name", "once", Self.rootfs, "/bin/sh", "-c", "echo once; exit 6"])
        let attached = try daemon.ctl(["start", "-a", "once"])
        #expect(attached.stdout == "once\n", "\(attached)")
        #expect(attached.status == 6, "\(attached)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func eventsShowStartAndDie() throws {
        let daemon = try DaemonFixture()
        let socket = daemon.socket
        let listener = TTRPCInteropTests.detachedResult {
            try runCommand(TestEnvironment.binary("tetherctl"), ["events", "--socket", socket, "--until", "6"], timeout: 30)
        }
        usleep(1_000_000)
        _ = try daemon.ctl(["run", "--name", "short", Self.rootfs, "/bin/sh", "-c", "exit 3"])
        let events = try listener.get(timeout: 40)
        let lines = events.stdout.split(separator: "\n")
        let pattern = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container "#
        #expect(lines.contains { $0.contains("container create ") && $0.hasSuffix("(name=short)") }, "\(events)")
        #expect(lines.contains { $0.contains("container start ") && $0.hasSuffix("(name=short)") }, "\(events)")
        #expect(lines.contains { $0.contains("container die ") && $0.hasSuffix("(exitCode=3, name=short)") }, "\(events)")
        #expect(lines.allSatisfy { $0.firstMatch(of: try! Regex(pattern)) != nil }, "\(events)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func forcedRemovalOfARunningContainerDiesBeforeItIsDestroyed() throws {
        let daemon = try DaemonFixture()
        let socket = daemon.socket
        _ = try daemon.ctl(["run", "-d", "--name", "doomed", Self.rootfs, "/bin/sleep", "1000"])
        let listener = TTRPCInteropTests.detachedResult {
            try runCommand(TestEnvironment.binary("tetherctl"), ["events", "--socket", socket, "--until", "6"], timeout: 30)
        }
        usleep(1_000_000)
        #expect(try daemon.ctl(["rm", "-f", "doomed"]).status == 0)
        let events = try listener.get(timeout: 40)
        let types = events.stdout.split(separator: "\n").compactMap { line in
            line.split(separator: " ").dropFirst(2).first.map(String.init)
        }
        #expect(types == ["die", "destroy"], "\(events)")
        #expect(events.stdout.contains("(exitCode=137, name=doomed)"), "\(events)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func sharedPidNamespaceDiesWithItsInit() throws {
        let daemon = try DaemonFixture()
        _ = try daemon.ctl(["run", "-d", "--name", "a", Self.rootfs, "/bin/sleep", "1000"])
        let b = try daemon.ctl(["run", "-d", "--name", "b", "--pid", "container:a", Self.rootfs, "/bin/sleep", "2000"])
        #expect(b.status == 0, "\(b)")
        let ps = try daemon.ctl(["exec", "b", "/bin/ps"])
        #expect(ps.stdout.contains("sleep 1000") && ps.stdout.contains("sleep 2000"), "\(ps)")
        let host = try daemon.ctl(["run", "--rm", "--pid", "host", Self.rootfs, "/bin/sh", "-c", "test -d /proc/\(getpid()) && echo host"])
        #expect(host.stdout == "host\n", "\(host)")
        _ = try daemon.ctl(["kill", "a"])
        var status = ""
        for _ in 0..<100 {
            status = try Self.state(daemon, "b")["Status"] as? String ?? ""
            if status == "exited" { break }
            usleep(100_000)
        }
        #expect(status == "exited")
        let nope = try daemon.ctl(["run", "--pid", "container:nope", Self.rootfs, "/bin/true"])
        #expect(nope.status == 125)
        #expect(nope.stderr == "tetherctl: no such container: nope\n", "\(nope)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func cgroupLimitsAreApplied() throws {
        let daemon = try DaemonFixture()
        let id = try daemon.ctl(["run", "-d", "--memory", "16m", "--pids-limit", "5", "--cpus", "1.5", Self.rootfs, "/bin/sleep", "1000"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func read(_ path: String) -> String {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory") {
            #expect(read("/sys/fs/cgroup/memory/tether/\(id)/memory.limit_in_bytes") == "16777216")
            #expect(read("/sys/fs/cgroup/pids/tether/\(id)/pids.max") == "5")
            #expect(read("/sys/fs/cgroup/cpu/tether/\(id)/cpu.cfs_quota_us") == "150000")
            #expect(read("/sys/fs/cgroup/cpu/tether/\(id)/cpu.cfs_period_us") == "100000")
        } else {
            #expect(read("/sys/fs/cgroup/tether/\(id)/memory.max") == "16777216")
            #expect(read("/sys/fs/cgroup/tether/\(id)/pids.max") == "5")
            #expect(read("/sys/fs/cgroup/tether/\(id)/cpu.max") == "150000 100000")
        }
        let bad = try daemon.ctl(["run", "--memory", "lots", Self.rootfs, "/bin/true"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--memory lots"), "\(bad)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func defaultSecurityProfileAndOptOuts() throws {
        let daemon = try DaemonFixture()
        func capBnd(_ flags: [String]) throws -> String {
            let run = try daemon.ctl(["run", "--rm"] + flags + [Self.rootfs, "/bin/sh", "-c", "grep CapBnd /proc/self/status"])
            return run.stdout.replacingOccurrences(of: "CapBnd:", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try capBnd([]) == "00000000a80425fb")
        let host = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("CapBnd:") }.map { $0.dropFirst("CapBnd:".count).trimmingCharacters(in: .whitespaces) }
        #expect(try capBnd(["--privileged"]) == host)
        #expect(try capBnd(["--cap-drop", "ALL", "--cap-add", "chown"]) == "0000000000000001")
        #expect(try capBnd(["--cap-drop", "MKNOD"]) == "00000000a00425fb")
        // A user namespace needs no capability: what refuses it is the seccomp profile.
        let denied = try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/sh", "-c", "unshare -U true"])
        #expect(denied.status != 0)
        #expect(denied.stdout.contains("Operation not permitted") || denied.stderr.contains("Operation not permitted"), "\(denied)")
        let mount = try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/sh", "-c", "mkdir -p /x && mount -t tmpfs none /x"])
        #expect(mount.status != 0, "\(mount)")
        let unconfined = try daemon.ctl(["run", "--rm", "--security-opt", "seccomp=unconfined", Self.rootfs, "/bin/sh", "-c", "unshare -U true"])
        #expect(unconfined.status == 0, "\(unconfined)")
        let privileged = try daemon.ctl(["run", "--rm", "--privileged", Self.rootfs, "/bin/sh", "-c", "mkdir -p /x && mount -t tmpfs none /x && echo mounted"])
        #expect(privileged.stdout == "mounted\n", "\(privileged)")
        let unknown = try daemon.ctl(["run", "--cap-add", "FLY", Self.rootfs, "/bin/true"])
        #expect(unknown.status == 125)
        #expect(unknown.stderr == "tetherctl: --cap-add FLY: unknown capability\n", "\(unknown)")
    }
}
