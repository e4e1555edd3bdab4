import Foundation
import Testing
import TetherTestSupport

/// Issue 13: tetherd and its shims under faults. A shim killed under a running container is noticed and cleaned up
/// after; no failure path leaves a shim; a stopped (SIGSTOP) shim delays only its own container's calls.
@Suite("tetherd under faults", .serialized)
struct DaemonFaultTests {
    typealias DaemonFixture = DaemonTests.DaemonFixture

    static var rootfs: String { TestEnvironment.rootfs }

    static func state(_ document: [String: Any]) -> [String: Any] { document["State"] as? [String: Any] ?? [:] }

    /// The pid of the shim serving container `id` (its `-id` argument) among the daemon's shims.
    static func shimPid(_ daemon: DaemonFixture, id: String) -> Int32? {
        let needle = Array("-id\0\(id)\0".utf8)
        return daemon.shims.first { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return Array(cmdline).firstRange(of: needle) != nil
        }
    }

    /// The cgroup v2 directory of process `pid`.
    static func cgroupDirectory(of pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        return "/sys/fs/cgroup" + line.dropFirst(3)
    }

    static func isMounted(_ path: String) -> Bool {
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return mountinfo.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == path }
    }

    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie is gone for our purpose only once reaped; report it as alive so that a leak shows.
        return true
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aKilledShimIsNoticedCleanedUpAndItsContainerRestarted() throws {
        let daemon = try DaemonFixture()
        let run = try daemon.ctl(["run", "-d", "--name", "orphaned", Self.rootfs, "/bin/sleep", "1000"])
        #expect(run.status == 0, "\(run)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let before = try daemon.inspect("orphaned")
        let initPid = Self.state(before)["Pid"] as? Int32 ?? Int32(Self.state(before)["Pid"] as? Int ?? 0)
        let bundle = before["Bundle"] as? String ?? ""
        let socket = (before["ShimAddress"] as? String ?? "").replacingOccurrences(of: "unix://", with: "")
        let cgroup = try #require(Self.cgroupDirectory(of: initPid))
        let shim = try #require(Self.shimPid(daemon, id: id))
        #expect(Self.isMounted(bundle + "/rootfs"))

        let killedAt = Date()
        kill(shim, SIGKILL)
        // The bound the issue asks for: within 1 s, `ps -a` shows the container exited (137).
        let noticed = try waitUntil(timeout: 5) { try daemon.ctl(["ps", "-a"]).stdout.contains("Exited (137)") }
        let elapsed = Date().timeIntervalSince(killedAt)
        #expect(noticed)
        #expect(elapsed < 1.0, "ps -a showed the exit \(elapsed) s after the shim's kill")
        let after = Self.state(try daemon.inspect("orphaned"))
        #expect(after["Status"] as? String == "exited")
        #expect(after["ExitCode"] as? Int == 137)
        #expect(after["Error"] as? String == "shim exited unexpectedly", "\(after)")
        // Nothing of the container is left: process, cgroup, overlay mount, shim socket.
        #expect(!Self.isAlive(initPid), "the container's init \(initPid) still runs")
        #expect(!FileManager.default.fileExists(atPath: cgroup), "\(cgroup) is left")
        #expect(!Self.isMounted(bundle + "/rootfs"))
        #expect(!FileManager.default.fileExists(atPath: socket), "\(socket) is left")
        #expect(try daemon.ctl(["rm", "orphaned"]).status == 0)

        // With --restart always, a new shim runs it again.
        let always = try daemon.ctl(["run", "-d", "--name", "phoenix", "--restart", "always", Self.rootfs, "/bin/sleep", "1000"])
        #expect(always.status == 0, "\(always)")
        let phoenix = always.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let firstShim = try #require(Self.shimPid(daemon, id: phoenix))
        let firstInit = Self.state(try daemon.inspect("phoenix"))["Pid"] as? Int ?? 0
        kill(firstShim, SIGKILL)
        let restarted = try waitUntil(timeout: 10) {
            let state = Self.state(try daemon.inspect("phoenix"))
            guard state["Status"] as? String == "running", let pid = state["Pid"] as? Int else { return false }
            return pid != firstInit && Self.shimPid(daemon, id: phoenix).map { $0 != firstShim } == true
        }
        let inspected = try daemon.ctl(["inspect", "phoenix"]).stdout
        #expect(restarted, "\(inspected)")
        #expect(try daemon.inspect("phoenix")["RestartCount"] as? Int == 1)
        #expect(try daemon.ctl(["rm", "-f", "phoenix"]).status == 0)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aShimThatDiedWhileTetherdWasDownIsCleanedUpAtRestart() throws {
        let daemon = try DaemonFixture()
        let run = try daemon.ctl(["run", "-d", "--name", "unattended", Self.rootfs, "/bin/sleep", "1000"])
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let document = try daemon.inspect("unattended")
        let initPid = Int32(Self.state(document)["Pid"] as? Int ?? 0)
        let bundle = document["Bundle"] as? String ?? ""
        let shim = try #require(Self.shimPid(daemon, id: id))
        daemon.kill9()
        kill(shim, SIGKILL)
        #expect(waitUntil(timeout: 5) { kill(shim, 0) != 0 })
        try daemon.start()
        #expect(try waitUntil(timeout: 5) { Self.state(try daemon.inspect("unattended"))["Status"] as? String == "exited" })
        let state = Self.state(try daemon.inspect("unattended"))
        #expect(state["ExitCode"] as? Int == 137)
        #expect(state["Error"] as? String == "shim exited unexpectedly", "\(state)")
        #expect(waitUntil(timeout: 5) { !Self.isAlive(initPid) }, "the container's init \(initPid) still runs")
        #expect(!Self.isMounted(bundle + "/rootfs"))
        #expect(try daemon.ctl(["rm", "unattended"]).status == 0)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func failedRunsStartsAndRemovalsLeaveNoShimAndTheSpareExitsWithTetherd() throws {
        let daemon = try DaemonFixture()
        // The spare shim tetherd keeps for the next run is up once a run has been served.
        #expect(try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/true"]).status == 0)
        #expect(waitUntil(timeout: 5) { daemon.shims.count == 1 }, "\(daemon.shims)")
        let before = daemon.shims.count

        let failures = [
            ["run", "-w", "relative/dir", Self.rootfs, "/bin/true"],
            ["run", Self.rootfs, "/no/such/command"],
            ["run", "--rm", Self.rootfs, "/no/such/command"],
            ["run", "-d", Self.rootfs, "/no/such/command"],
        ]
        for arguments in failures {
            let result = try daemon.ctl(arguments)
            #expect(result.status != 0, "\(arguments): \(result)")
        }
        #expect(try daemon.ctl(["create", "--name", "never", Self.rootfs, "/no/such/command"]).status == 0)
        #expect(try daemon.ctl(["start", "never"]).status != 0)
        #expect(try daemon.ctl(["rm", "-f", "never"]).status == 0)
        #expect(waitUntil(timeout: 5) { daemon.shims.count == before }, "shims before: \(before), now: \(daemon.shims)")
        #expect(try daemon.ctl(["ps", "-a", "-q"]).stdout.isEmpty)

        // SIGTERM: tetherd exits; its spare goes with it, the shim of a running container stays.
        let kept = try daemon.ctl(["run", "-d", "--name", "kept", Self.rootfs, "/bin/sleep", "1000"])
        let keptID = kept.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(waitUntil(timeout: 5) { daemon.shims.count == 2 }, "\(daemon.shims)")
        let process = try #require(daemon.process)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        daemon.process = nil
        #expect(process.terminationReason == .exit, "tetherd did not exit on SIGTERM")
        let keptShim = Self.shimPid(daemon, id: keptID)
        #expect(waitUntil(timeout: 5) { daemon.shims.count == 1 }, "\(daemon.shims)")
        #expect(daemon.shims == keptShim.map { [$0] })
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.directory.path + "/state/spare").isEmpty)
        // The restarted tetherd finds the container running under its shim.
        try daemon.start()
        #expect(try daemon.ctl(["ps"]).stdout.contains("kept"))
        #expect(try daemon.ctl(["rm", "-f", "kept"]).status == 0)
    }

    /// Runs `arguments` and returns the result with its wall time in seconds.
    static func timed(_ daemon: DaemonFixture, _ arguments: [String]) throws -> (CommandResult, Double) {
        let start = Date()
        let result = try daemon.ctl(arguments)
        return (result, Date().timeIntervalSince(start))
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aStoppedShimDelaysOnlyItsOwnContainer() throws {
        let daemon = try DaemonFixture()
        let stuck = try daemon.ctl(["run", "-d", "--name", "stuck", Self.rootfs, "/bin/sleep", "1000"])
        let stuckID = stuck.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Exits at once on SIGTERM (a trapped signal interrupts `wait`), so that `stop` needs no grace period.
        let quick = ["/bin/sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 1000 & wait"]
        #expect(try daemon.ctl(["run", "-d", "--name", "other"] + [Self.rootfs] + quick).status == 0)
        #expect(try daemon.ctl(["run", "-d", "--name", "another"] + [Self.rootfs] + quick).status == 0)
        #expect(try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/true"]).status == 0)  // the spare is up again
        #expect(waitUntil(timeout: 5) { (try? daemon.ctl(["logs", "other"]).stdout) == "ready\n" })
        let shim = try #require(Self.shimPid(daemon, id: stuckID))
        kill(shim, SIGSTOP)
        defer { kill(shim, SIGCONT) }

        // A call on the stuck container, in the background: it fails at its deadline (5 s), naming it and its shim.
        // Its output goes to a file, not through runCommand's pipe readers: those would hold two of the few threads
        // of Dispatch's pool for 5 s, and the commands timed below would wait for threads, not for tetherd.
        let output = try TemporaryDirectory("tether-stuck")
        let stop = Process()
        stop.executableURL = URL(fileURLWithPath: TestEnvironment.binary("tetherctl"))
        stop.arguments = ["stop", "--socket", daemon.socket, "-t", "1", "stuck"]
        _ = FileManager.default.createFile(atPath: output.path + "/stderr", contents: nil)
        stop.standardInput = FileHandle.nullDevice
        stop.standardOutput = FileHandle.nullDevice
        stop.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output.path + "/stderr"))
        let stopStarted = Date()
        try stop.run()
        usleep(100_000)  // the stop is waiting on the stuck shim
        // Meanwhile every other container's calls answer: under 200 ms each (the bound; wall time of
        // one command, tetherctl's own start included).
        for arguments in [["ps", "-a"], ["run", "--rm", Self.rootfs, "/bin/true"], ["stop", "other"], ["logs", "another"]] {
            let (result, seconds) = try Self.timed(daemon, arguments)
            #expect(result.status == 0, "\(arguments): \(result)")
            #expect(seconds < 0.2, "\(arguments) took \(seconds) s while another container's shim was stopped")
        }
        stop.waitUntilExit()
        let seconds = Date().timeIntervalSince(stopStarted)
        let failed = CommandResult(status: stop.terminationStatus, stdout: "",
                                   stderr: (try? String(contentsOfFile: output.path + "/stderr", encoding: .utf8)) ?? "")
        #expect(failed.status != 0, "\(failed)")
        #expect(failed.stderr.contains("container stuck") && failed.stderr.contains("shim"), "\(failed)")
        #expect(seconds < 10, "the stuck call failed after \(seconds) s, not at its 5 s deadline")

        // SIGCONT: the container's calls work again.
        kill(shim, SIGCONT)
        let stopped = try daemon.ctl(["stop", "-t", "1", "stuck"])
        #expect(stopped.status == 0, "\(stopped)")
        #expect(Self.state(try daemon.inspect("stuck"))["Status"] as? String == "exited")
        for name in ["stuck", "other", "another"] { _ = try daemon.ctl(["rm", "-f", name]) }
    }
}
