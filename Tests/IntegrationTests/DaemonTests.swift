import Foundation
import Testing
import TetherTestSupport

/// Issue 7: tetherd + tetherctl as a user drives them, each test with its own daemon (root, state, socket).
@Suite("tetherd and tetherctl", .serialized)
struct DaemonTests {
    /// A private tetherd; containers are force-removed and the daemon killed at the end.
    final class DaemonFixture {
        let directory: TemporaryDirectory
        var process: Process?
        var socket: String { directory.path + "/state/tetherd.sock" }
        /// tetherd's `--root` (default: `root` in the fixture's directory).
        let root: String
        var state: String { directory.path + "/state" }
        /// Added to tetherd's environment at its next start (`TETHER_CRASH_AT`).
        var environment: [String: String] = [:]
        /// Added to tetherd's command line (`--log-level debug`).
        let extraArguments: [String]
        /// tetherd's stderr, appended to by each start.
        var logPath: String { directory.path + "/tetherd.log" }
        var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        init(root: String? = nil, environment: [String: String] = [:], arguments: [String] = []) throws {
            directory = try TemporaryDirectory("tether-d")
            self.root = root ?? directory.path + "/root"
            self.environment = environment
            self.extraArguments = arguments
            try start()
        }

        func start() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestEnvironment.binary("tetherd"))
            process.arguments = ["--root", root, "--state", state] + extraArguments
            if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
            let log = FileHandle(forWritingAtPath: logPath)
            log?.seekToEndOfFile()
            process.standardError = log ?? FileHandle.nullDevice
            try process.run()
            try? log?.close()
            self.process = process
            for _ in 0..<200 {
                if (try? ctl(["ps"], timeout: 5))?.status == 0 { return }
                usleep(25_000)
            }
            throw CocoaError(.fileReadUnknown)
        }

        func kill9() {
            guard let process else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            self.process = nil
        }

        @discardableResult
        func ctl(_ arguments: [String], timeout: TimeInterval = 60) throws -> CommandResult {
            guard let command = arguments.first else { throw CocoaError(.fileReadUnknown) }
            return try runCommand(TestEnvironment.binary("tetherctl"), [command, "--socket", socket] + arguments.dropFirst(),
                                  timeout: timeout)
        }

        /// A container's `inspect` document (the one element of the JSON array tetherctl prints).
        func inspect(_ name: String) throws -> [String: Any] {
            let result = try ctl(["inspect", name])
            let array = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
            guard let document = array?.first else { throw CocoaError(.fileReadCorruptFile) }
            return document
        }

        /// The shims of this daemon (their `-address`) still running.
        var shims: [Int32] {
            let needle = Array("-address\0\(socket)\0".utf8)
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
            return pids.filter { pid in
                guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                return Array(cmdline).firstRange(of: needle) != nil
            }
        }

        /// The mount points under the fixture's directory (containers' rootfs overlays), from /proc/self/mountinfo.
        var mounts: [String] {
            let table = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            return table.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count > 4, fields[4].hasPrefix(directory.path + "/") else { return nil }
                return String(fields[4])
            }
        }

        deinit {
            if process != nil, let ids = try? ctl(["ps", "-a", "-q"]).stdout.split(separator: "\n") {
                for id in ids { _ = try? ctl(["rm", "-f", String(id)]) }
                // rm answers before tetherd has deleted the tasks (unmounting their rootfs) and the shims exited:
                // let tetherd finish that. The spare shim it keeps for the next run goes with tetherd below.
                _ = waitUntil(timeout: 10) { self.mounts.isEmpty && self.shims.count <= 1 }
            }
            kill9()
            for pid in shims { kill(pid, SIGKILL) }
            // A rootfs still mounted now is tetherd's leak (a test that stopped tetherd itself has let it finish
            // its removals first): the test fails naming it, and the mount goes so that no later test trips on it.
            let left = mounts
            for mount in left.reversed() { umount2(mount, Int32(MNT_DETACH)) }
            if !left.isEmpty { Issue.record("tetherd left these mounted: \(left)") }
        }
    }

    static var rootfs: String { TestEnvironment.rootfs }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func runRemovePrintsOutputAndPassesTheExitCode() throws {
        let daemon = try DaemonFixture()
        let hello = try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/echo", "hello"])
        #expect(hello.stdout == "hello\n", "\(hello)")
        #expect(hello.status == 0, "\(hello)")
        let failing = try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/sh", "-c", "echo out; exit 3"])
        #expect(failing.stdout == "out\n")
        #expect(failing.status == 3, "\(failing)")
        // --rm left nothing behind; the rootfs directory was not written to (overlay upper layer).
        #expect(try daemon.ctl(["ps", "-a", "-q"]).stdout.isEmpty)
        let writer = try daemon.ctl(["run", "--rm", Self.rootfs, "/bin/sh", "-c", "echo x > /tether-was-here && cat /tether-was-here"])
        #expect(writer.stdout == "x\n", "\(writer)")
        #expect(!FileManager.default.fileExists(atPath: Self.rootfs + "/tether-was-here"))
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func badInputGetsClearErrors() throws {
        let daemon = try DaemonFixture()
        let missing = try daemon.ctl(["run", "/nonexistent-rootfs", "/bin/true"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent-rootfs"), "\(missing)")
        let unknown = try daemon.ctl(["kill", "no-such-container"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no such container"), "\(unknown)")
        _ = try daemon.ctl(["run", "-d", "--name", "taken", Self.rootfs, "/bin/sleep", "100"])
        let conflict = try daemon.ctl(["run", "-d", "--name", "taken", Self.rootfs, "/bin/true"])
        #expect(conflict.status != 0)
        #expect(conflict.stderr.contains("already in use"), "\(conflict)")
        let restart = try daemon.ctl(["run", "--restart", "sometimes", Self.rootfs, "/bin/true"])
        #expect(restart.status != 0)
        #expect(restart.stderr.contains("--restart"), "\(restart)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aCreatedContainerOutlivesADaemonCrashAndRemovalLeavesNoDirectories() throws {
        let daemon = try DaemonFixture()
        #expect(try daemon.ctl(["create", "--name", "later", Self.rootfs, "/bin/echo", "started later"]).status == 0)
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.ctl(["ps", "-a"]).stdout.contains("later"))
        let start = try daemon.ctl(["start", "-a", "later"])
        #expect(start.stdout == "started later\n", "\(start)")
        #expect(try daemon.ctl(["rm", "later"]).status == 0)
        // The directories go right after rm answers (on tetherd's loop): wait for them briefly.
        let containers = daemon.directory.path + "/root/containers"
        for _ in 0..<100 where !((try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? []).isEmpty {
            usleep(20_000)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: containers).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.directory.path + "/state/bundles").isEmpty)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func containersSurviveADaemonCrashAndExitsAreLearnedOnRestart() throws {
        let daemon = try DaemonFixture()
        var pids: [Int32] = []
        for index in 0..<20 {
            // The five that exit outlive the start of all twenty even on a loaded machine, then exit while
            // tetherd is down.
            let script = index < 5 ? "echo start-\(index); sleep 6; echo end-\(index); exit \(index + 1)"
                                   : "echo start-\(index); exec sleep 1000"
            let run = try daemon.ctl(["run", "-d", "--name", "c\(index)", Self.rootfs, "/bin/sh", "-c", script])
            #expect(run.status == 0, "\(run)")
            let inspect = try daemon.ctl(["inspect", "c\(index)"])
            let document = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]]
            let state = document?.first?["State"] as? [String: Any]
            pids.append(Int32(state?["Pid"] as? Int ?? 0))
        }
        daemon.kill9()
        for pid in pids { #expect(processIsAlive(pid), "container init \(pid) died with tetherd") }
        sleep(7)  // five containers exit while tetherd is down
        try daemon.start()
        let ps = try daemon.ctl(["ps", "-a"])
        let lines = ps.stdout.split(separator: "\n").dropFirst()
        #expect(lines.filter { $0.contains("Up ") }.count == 15, "\(ps)")
        for index in 0..<5 {
            #expect(lines.contains { $0.contains("c\(index) ") && $0.contains("Exited (\(index + 1))") }, "\(ps)")
        }
        for index in 0..<20 {
            let logs = try daemon.ctl(["logs", "c\(index)"])
            let expected = index < 5 ? "start-\(index)\nend-\(index)\n" : "start-\(index)\n"
            #expect(logs.stdout == expected, "c\(index): \(logs)")
        }
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func stopKillsAContainerThatIgnoresSIGTERMAfterTheGracePeriod() throws {
        let daemon = try DaemonFixture()
        // PID 1 without a SIGTERM handler ignores SIGTERM.
        _ = try daemon.ctl(["run", "-d", "--name", "stubborn", Self.rootfs, "/bin/sleep", "1000"])
        let started = Date()
        let stop = try daemon.ctl(["stop", "-t", "2", "stubborn"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(stop.status == 0, "\(stop)")
        #expect(elapsed >= 1.9, "stop returned after \(elapsed) s, before the grace period")
        let inspect = try daemon.ctl(["inspect", "stubborn"])
        #expect(inspect.stdout.contains("\"ExitCode\": 137"), "\(inspect)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func onFailureRestartsExactlyTheGivenNumberOfTimes() throws {
        let daemon = try DaemonFixture()
        _ = try daemon.ctl(["run", "-d", "--name", "flaky", "--restart", "on-failure:3", Self.rootfs, "/bin/sh", "-c", "echo try; exit 1"])
        var restarts = -1
        var status = ""
        for _ in 0..<100 {
            let inspect = try daemon.ctl(["inspect", "flaky"])
            let document = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]]
            restarts = document?.first?["RestartCount"] as? Int ?? -1
            status = (document?.first?["State"] as? [String: Any])?["Status"] as? String ?? ""
            if restarts == 3 && status == "exited" { break }
            usleep(100_000)
        }
        #expect(restarts == 3)
        #expect(status == "exited")
        sleep(1)  // no fourth run
        let logs = try daemon.ctl(["logs", "flaky"])
        #expect(logs.stdout == "try\ntry\ntry\ntry\n", "\(logs)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func stopTurnsTheRestartPolicyOffUntilTheNextStart() throws {
        let daemon = try DaemonFixture()
        _ = try daemon.ctl(["run", "-d", "--name", "keeper", "--restart", "always", Self.rootfs, "/bin/sh", "-c", "sleep 2; exit 1"])
        func inspect() throws -> (status: String, restarts: Int) {
            let document = try daemon.inspect("keeper")
            return ((document["State"] as? [String: Any])?["Status"] as? String ?? "", document["RestartCount"] as? Int ?? -1)
        }
        func waitForRestarts(above count: Int) throws -> Int {
            for _ in 0..<300 {
                let (status, restarts) = try inspect()
                if restarts > count && status == "running" { return restarts }
                usleep(100_000)
            }
            return -1
        }
        let restarts = try waitForRestarts(above: 0)
        #expect(restarts > 0, "--restart always did not restart the container")
        let stop = try daemon.ctl(["stop", "-t", "1", "keeper"])
        #expect(stop.status == 0, "\(stop)")
        sleep(4)  // twice the container's run time: an exit would have been restarted by now
        let stopped = try inspect()
        #expect(stopped.status == "exited", "\(stopped)")
        #expect(stopped.restarts == restarts, "\(stopped)")
        // start gives the policy back.
        #expect(try daemon.ctl(["start", "keeper"]).status == 0)
        #expect(try waitForRestarts(above: restarts) > restarts, "the restart policy stayed off after start")
    }
}
