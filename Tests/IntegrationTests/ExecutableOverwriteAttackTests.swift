import Foundation
import Testing

/// CVE-2019-5736, tried on every path by which a process of ours enters a container: the container's
/// `/usr/local/bin/self-exe-script` is `#!/proc/self/exe`, so the kernel runs whatever executable the process that
/// execs it has, and the attacker (`exe-attack`, Tests/RootfsPrograms) takes an O_PATH handle on that process's
/// /proc/PID/exe and opens it for writing once it is no longer being executed. The attacker runs with
/// CAP_DAC_OVERRIDE (as in docker's and containerd's defaults), so file modes do not stop it: what it catches must be
/// tether-exec on a read-only mount (EROFS), and our binaries on the host must be unchanged.
@Suite("CVE-2019-5736: no host binary of ours is writable from a container", .serialized)
struct ExecutableOverwriteAttackTests {
    static let attacker = "/usr/local/bin/exe-attack"
    static let script = "/usr/local/bin/self-exe-script"
    /// The attacker waits this long (seconds) for a process to catch, then lingers so the process it caught can end
    /// by itself instead of being killed with the container.
    static let attackerCommand = ["/bin/sh", "-c", "\(attacker) 30; sleep 2"]
    static let hostBinaries = ["tether-runtime", "tether-shim", "tetherd", "tetherctl"]

    static var canRun: Bool {
        TestEnvironment.canRunContainers && FileManager.default.fileExists(atPath: TestEnvironment.rootfs + attacker)
    }

    /// sha256 of each host binary, to compare before and after an attack.
    static func digests() throws -> [String] {
        let result = try runCommand("/usr/bin/sha256sum", hostBinaries.map { TestEnvironment.binary($0) })
        #expect(result.status == 0, "\(result)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// The attacker's report in `output`: the process it caught and how opening it for writing ended.
    static func verdict(_ output: String) -> (caught: String?, result: String?) {
        let lines = output.split(separator: "\n").map(String.init)
        return (lines.first { $0.hasPrefix("caught ") }, lines.first { $0.hasPrefix("RESULT ") })
    }

    /// Runs `trigger` (which makes us put a process into the attacker's container that execs the script) until the
    /// attacker's output, read by `output`, holds its result; then checks the result and the host binaries.
    static func expectAttackFails(_ path: String, trigger: () throws -> CommandResult, output: () throws -> String) throws {
        let before = try digests()
        var triggers: [CommandResult] = []
        var report = (caught: String?.none, result: String?.none)
        for _ in 0..<20 where report.result == nil {
            usleep(100_000)
            triggers.append(try trigger())
            report = verdict(try output())
        }
        let last = triggers.last.map { "\($0)" } ?? "none"
        #expect(report.caught != nil, "\(path): the attacker caught no process (last trigger: \(last))")
        #expect(report.result == "RESULT errno=EROFS", "\(path): \(report) (last trigger: \(last))")
        // The script ran under tether-exec, which refuses to be anything but our last exec.
        #expect(triggers.contains { $0.stderr.contains("tether-exec: not to be run directly") || $0.stdout.contains("tether-exec: not to be run directly") },
                "\(path): \(last)")
        #expect(try digests() == before, "\(path): a host binary changed")
    }

    static func allowDACOverride(_ config: inout [String: Any]) {
        RuntimeSecurityTests.setCapabilities(&config, BundleFixture.defaultCapabilities + ["CAP_DAC_OVERRIDE"])
    }

    @Test(.enabled(if: canRun, "needs root and the busybox rootfs with the test programs"))
    func throughTetherRuntimeExec() throws {
        let fixture = try RuntimeTests.Fixture(args: Self.attackerCommand) { Self.allowDACOverride(&$0) }
        let id = uniqueID("atk")
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        #expect(try fixture.runDetached(["create", "-b", fixture.bundle, id]).status == 0)
        #expect(try fixture.run(["start", id]).status == 0)
        try Self.expectAttackFails("tether-runtime exec", trigger: {
            try fixture.run(["exec", "--cap", "CAP_DAC_OVERRIDE", id, Self.script])
        }, output: {
            (try? String(contentsOfFile: fixture.directory.path + "/detached.log", encoding: .utf8)) ?? ""
        })
    }

    @Test(.enabled(if: canRun, "needs root and the busybox rootfs with the test programs"))
    func throughTetherRuntimeRunOfTheInit() throws {
        // The init is the script; the attacker is in the pid namespace the init joins.
        let fixture = try RuntimeTests.Fixture(args: Self.attackerCommand) { Self.allowDACOverride(&$0) }
        let attackerID = uniqueID("atk")
        defer { _ = try? fixture.run(["delete", "-f", attackerID]) }
        #expect(try fixture.runDetached(["create", "-b", fixture.bundle, attackerID]).status == 0)
        #expect(try fixture.run(["start", attackerID]).status == 0)
        let pid = try #require(try fixture.state(attackerID)?["pid"] as? Int)
        let victim = fixture.directory.path + "/victim"
        try BundleFixture.write(to: victim, args: [Self.script]) { config in
            Self.allowDACOverride(&config)
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = [["type": "pid", "path": "/proc/\(pid)/ns/pid"], ["type": "network"], ["type": "ipc"],
                                   ["type": "uts"], ["type": "mount"]]
            config["linux"] = linux
        }
        try Self.expectAttackFails("tether-runtime run", trigger: {
            try fixture.run(["run", "-b", victim, uniqueID("vic")])
        }, output: {
            (try? String(contentsOfFile: fixture.directory.path + "/detached.log", encoding: .utf8)) ?? ""
        })
    }

    @Test(.enabled(if: canRun, "needs root and the busybox rootfs with the test programs"))
    func throughTetherctlExecAndRun() throws {
        let daemon = try DaemonTests.DaemonFixture()
        let rootfs = TestEnvironment.rootfs
        #expect(try daemon.ctl(["run", "-d", "--name", "attacker", rootfs] + Self.attackerCommand).status == 0)
        try Self.expectAttackFails("tetherctl exec", trigger: {
            try daemon.ctl(["exec", "attacker", Self.script])
        }, output: {
            try daemon.ctl(["logs", "attacker"]).stdout
        })
        #expect(try daemon.ctl(["run", "-d", "--name", "attacker2", rootfs] + Self.attackerCommand).status == 0)
        try Self.expectAttackFails("tetherctl run", trigger: {
            try daemon.ctl(["run", "--rm", "--pid", "container:attacker2", rootfs, Self.script])
        }, output: {
            try daemon.ctl(["logs", "attacker2"]).stdout
        })
    }

    @Test(.enabled(if: canRun && PrivateContainerd.isInstalled, "needs root, the test programs and Debian's containerd"))
    func throughCtrTaskExecWithTheShimUnderContainerd() throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let id = uniqueID("atk")
        let log = containerd.directory.path + "/attacker.log"
        let run = try containerd.ctr(["run", "-d", "--runtime", ContainerdShimTests.shim, "--log-uri", "file://" + log,
                                      "--rootfs", TestEnvironment.rootfs, id] + Self.attackerCommand)
        #expect(run.status == 0, "\(run)")
        var exec = 0
        try Self.expectAttackFails("ctr task exec", trigger: {
            exec += 1
            return try containerd.ctr(["task", "exec", "--exec-id", "e\(exec)", id, Self.script])
        }, output: {
            (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        })
    }
}
