import Foundation
import TetherSystem
import Testing
import TetherTestSupport

/// Capabilities, noNewPrivileges, seccomp (with notify) and fd hygiene of tether-runtime, on the real kernel.
@Suite("tether-runtime security")
struct RuntimeSecurityTests {
    typealias Fixture = RuntimeTests.Fixture

    static func setCapabilities(_ config: inout [String: Any], _ names: [String], ambient: Bool = false) {
        var process = config["process"] as? [String: Any] ?? [:]
        var sets: [String: Any] = ["bounding": names, "effective": names, "permitted": names, "inheritable": names]
        if ambient { sets["ambient"] = names }
        process["capabilities"] = sets
        config["process"] = process
    }

    static func setProcess(_ config: inout [String: Any], _ key: String, _ value: Any?) {
        var process = config["process"] as? [String: Any] ?? [:]
        process[key] = value
        config["process"] = process
    }

    static func setSeccomp(_ config: inout [String: Any], _ seccomp: [String: Any]) {
        var linux = config["linux"] as? [String: Any] ?? [:]
        linux["seccomp"] = seccomp
        config["linux"] = linux
    }

    /// The value of `field` (e.g. "CapEff") in a /proc/PID/status dump.
    static func statusField(_ field: String, in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func onlyTheConfiguredCapabilitiesAndNoNewPrivsReachTheProcess() throws {
        let fixture = try Fixture(args: ["/bin/cat", "/proc/self/status"]) {
            Self.setCapabilities(&$0, ["CAP_CHOWN", "CAP_KILL"])
        }
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.status == 0, "\(result)")
        for field in ["CapEff", "CapPrm", "CapBnd", "CapInh"] {
            #expect(Self.statusField(field, in: result.stdout) == "0000000000000021", "\(field): \(result.stdout)")
        }
        #expect(Self.statusField("CapAmb", in: result.stdout) == "0000000000000000")
        #expect(Self.statusField("NoNewPrivs", in: result.stdout) == "1")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func ambientCapabilitiesReachANonRootUser() throws {
        let fixture = try Fixture(args: ["/bin/cat", "/proc/self/status"]) {
            Self.setCapabilities(&$0, ["CAP_NET_BIND_SERVICE"], ambient: true)
            Self.setProcess(&$0, "user", ["uid": 1000, "gid": 1000])
            Self.setProcess(&$0, "noNewPrivileges", false)
        }
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.status == 0, "\(result)")
        #expect(Self.statusField("Uid", in: result.stdout)?.hasPrefix("1000") == true, "\(result.stdout)")
        #expect(Self.statusField("CapAmb", in: result.stdout) == "0000000000000400", "\(result.stdout)")
        #expect(Self.statusField("CapEff", in: result.stdout) == "0000000000000400", "\(result.stdout)")
        #expect(Self.statusField("NoNewPrivs", in: result.stdout) == "0")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func withoutCapabilitiesTheBoundingSetIsLeftAlone() throws {
        let fixture = try Fixture(args: ["/bin/cat", "/proc/self/status"]) { Self.setProcess(&$0, "capabilities", nil) }
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.status == 0, "\(result)")
        let mine = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        #expect(Self.statusField("CapBnd", in: result.stdout) == Self.statusField("CapBnd", in: mine), "\(result.stdout)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func unknownNamesGetOneClearErrorNamingTheFieldAndLeaveNothing() throws {
        let fixture = try Fixture(args: ["/bin/true"])
        func expectFailure(_ name: String, mentions text: String, _ configure: @escaping (inout [String: Any]) -> Void) throws {
            let bundle = fixture.directory.path + "/" + name
            try BundleFixture.write(to: bundle, args: ["/bin/true"], configure: configure)
            let result = try fixture.run(["run", "-b", bundle, uniqueID()])
            #expect(result.status != 0, "\(name): \(result)")
            #expect(result.stderr.contains(text), "\(name) should mention \(text): \(result)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one error line: \(result)")
        }
        try expectFailure("badcap", mentions: "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\"") {
            Self.setCapabilities(&$0, ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_FOO"])
        }
        try expectFailure("badaction", mentions: "linux.seccomp.syscalls[0].action: unknown action \"X\"") {
            Self.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["mkdir"], "action": "X"]]])
        }
        try expectFailure("baddefault", mentions: "linux.seccomp.defaultAction: unknown action \"Y\"") {
            Self.setSeccomp(&$0, ["defaultAction": "Y"])
        }
        try expectFailure("badarch", mentions: "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"") {
            Self.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]])
        }
        try expectFailure("nolistener", mentions: "linux.seccomp.listenerPath") {
            Self.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["acct"], "action": "SCMP_ACT_NOTIFY"]]])
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: fixture.root)) ?? []
        #expect(left.isEmpty, "\(left)")
    }

    /// Both load points: right before execve (noNewPrivileges) and before the capabilities are dropped (without).
    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"), arguments: [true, false])
    func aSeccompErrnoRuleDeniesTheSyscall(noNewPrivileges: Bool) throws {
        let rules: [[String: Any]] = [
            ["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"],
            ["names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38],
            ["names": ["no_such_syscall_at_all"], "action": "SCMP_ACT_KILL"],
            // Only chmod to 0700 is denied (chmod's mode is argument 1, fchmodat's argument 2).
            ["names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": [["index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"]]],
            ["names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "args": [["index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"]]],
        ]
        let script = "mkdir /tmp/x; rmdir /tmp; touch /tmp/f; chmod 700 /tmp/f; echo denied=$?; chmod 755 /tmp/f; echo allowed=$?"
        let fixture = try Fixture(args: ["/bin/sh", "-c", script]) {
            Self.setProcess(&$0, "noNewPrivileges", noNewPrivileges)
            Self.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                                  "syscalls": rules])
        }
        let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
        #expect(result.stderr.contains("can't create directory '/tmp/x': Operation not permitted"), "\(result)")
        #expect(result.stderr.contains("Function not implemented"), "\(result)")
        #expect(result.stdout.contains("denied=1"), "\(result)")
        #expect(result.stdout.contains("allowed=0"), "\(result)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aCompiledFilterIsCachedUnderTheRootAndAStaleFileIsRecompiled() throws {
        let fixture = try Fixture(args: ["/bin/sh", "-c", "mkdir /tmp/x"]) {
            Self.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"]]])
        }
        let cache = fixture.root + "/@seccomp-cache"
        func runDenied(_ label: String) throws {
            let result = try fixture.run(["run", "-b", fixture.bundle, uniqueID()])
            #expect(result.status != 0, "\(label): \(result)")
            #expect(result.stderr.contains("Operation not permitted"), "\(label): \(result)")
        }
        try runDenied("compiled")
        let files = try FileManager.default.contentsOfDirectory(atPath: cache)
        try #require(files.count == 1, "one cached program: \(files)")
        let path = cache + "/" + files[0]
        let compiled = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(compiled.contains(0), "key, NUL, instructions")

        try runDenied("from the cache")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == compiled)

        // A file under that name whose key differs (a hash collision, or another libseccomp) is not used.
        try Data("another profile\0\0\0\0\0\0\0\0\0".utf8).write(to: URL(fileURLWithPath: path))
        try runDenied("stale file")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == compiled, "rewritten with the right program")
        // The cache is not a container.
        #expect(try fixture.run(["list", "-q"]).stdout.isEmpty)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aNotifyingFilterHandsItsListenerFdToTheAgent() throws {
        let directory = try TemporaryDirectory("tether-notify")
        let socketPath = directory.path + "/agent.sock"
        let listener = try UnixSocket.listen(path: socketPath)
        defer { FileIO.close(listener) }
        // A syscall busybox true never makes, so the process never waits on this (unanswering) agent.
        let fixture = try Fixture(args: ["/bin/true"]) {
            Self.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socketPath, "listenerMetadata": "agent-data",
                                  "syscalls": [["names": ["acct"], "action": "SCMP_ACT_NOTIFY"]]])
        }
        let id = uniqueID()
        let result = try fixture.run(["run", "-b", fixture.bundle, id])
        #expect(result.status == 0, "\(result)")
        guard let connection = try UnixSocket.accept(listener) else {
            Issue.record("the runtime never connected to listenerPath")
            return
        }
        defer { FileIO.close(connection) }
        try FileIO.setNonblocking(connection, false)
        let (data, fds) = try UnixSocket.receive(connection)
        defer { for fd in fds { FileIO.close(fd) } }
        #expect(fds.count == 1)
        if let fd = fds.first {
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            #expect(link.contains("seccomp"), "\(link)")
        }
        let state = try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any]
        #expect(state?["fds"] as? [String] == ["seccompFd"], "\(String(decoding: data, as: UTF8.self))")
        #expect(state?["metadata"] as? String == "agent-data")
        #expect((state?["pid"] as? Int ?? 0) > 1)
        let container = state?["state"] as? [String: Any]
        #expect(container?["id"] as? String == id)
        #expect(container?["bundle"] as? String == fixture.bundle)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"), arguments: [0, 1])
    func onlyStdioAndPreservedFdsReachTheContainer(preserved: Int) throws {
        let fixture = try Fixture(args: ["/bin/ls", "/proc/self/fd"])
        let command = ([RuntimeTests.runtime, "--root", fixture.root, "run", "--preserve-fds", "\(preserved)",
                        "-b", fixture.bundle, uniqueID()]).map { "'\($0)'" }.joined(separator: " ")
        let result = try runCommand("/bin/sh", ["-c", "exec \(command) 3</dev/null 4</dev/null 5</dev/null"])
        #expect(result.status == 0, "\(result)")
        let fds = result.stdout.split(separator: "\n").map(String.init)
        // ls's own directory fd is the first free one: 3 + preserved.
        #expect(fds == (0...(3 + preserved)).map(String.init), "\(result)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execAddsCapsAndNoNewPrivs() throws {
        let fixture = try Fixture(args: ["/bin/sleep", "100"]) { Self.setProcess(&$0, "noNewPrivileges", false) }
        let id = uniqueID()
        #expect(try fixture.runDetached(["run", "-d", "-b", fixture.bundle, id]).status == 0)
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        // The config's caps (CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE = 0x20000420) plus CAP_NET_RAW (13).
        let withCap = try fixture.run(["exec", "--cap", "CAP_NET_RAW", id, "/bin/cat", "/proc/self/status"])
        #expect(withCap.status == 0, "\(withCap)")
        #expect(Self.statusField("CapEff", in: withCap.stdout) == "0000000020002420", "\(withCap.stdout)")
        #expect(Self.statusField("NoNewPrivs", in: withCap.stdout) == "0")
        let plain = try fixture.run(["exec", id, "/bin/cat", "/proc/self/status"])
        #expect(Self.statusField("CapEff", in: plain.stdout) == "0000000020000420", "\(plain.stdout)")
        let noNewPrivs = try fixture.run(["exec", "--no-new-privs", id, "/bin/cat", "/proc/self/status"])
        #expect(Self.statusField("NoNewPrivs", in: noNewPrivs.stdout) == "1", "\(noNewPrivs.stdout)")
        let unknown = try fixture.run(["exec", "--cap", "CAP_FOO", id, "/bin/true"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("CAP_FOO"), "\(unknown)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execdProcessesGetTheContainersSeccompFilter() throws {
        let fixture = try Fixture(args: ["/bin/sleep", "100"]) {
            Self.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"]]])
        }
        let id = uniqueID()
        #expect(try fixture.runDetached(["run", "-d", "-b", fixture.bundle, id]).status == 0)
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        let result = try fixture.run(["exec", id, "/bin/mkdir", "/tmp/y"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Operation not permitted"), "\(result)")
    }
}
