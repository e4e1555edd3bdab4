import Foundation
import Testing
import TetherTestSupport

/// Issue 4, hooks: runtime-spec's six hook phases through tether-runtime, on the real kernel and the busybox rootfs.
/// The hooks are one shell script in a host directory that is also bind-mounted into the container (at
/// /tmp/hooks, on the config's /tmp tmpfs, so the shared read-only rootfs is never touched): it appends
/// "<name> <status>" to `log`, keeps its stdin in `<name>.json`, and exits with its second argument.
@Suite("tether-runtime hooks")
struct RuntimeHookTests {
    static let containerHookDirectory = "/tmp/hooks"

    static let script = """
        #!/bin/sh
        dir=$(dirname "$0")
        state=$(cat)
        printf '%s' "$state" > "$dir/$1.json"
        status=$(printf '%s' "$state" | sed -n 's/.*"status":"\\([a-z]*\\)".*/\\1/p')
        echo "$1 $status" >> "$dir/log"
        [ -n "$3" ] && sleep "$3"
        exit "${2:-0}"
        """

    /// A bundle whose config has `hooks`, a private --root, and the hook directory.
    final class HookFixture {
        let hookDirectory: TemporaryDirectory
        let runtime: RuntimeTests.Fixture
        let id = uniqueID("h")

        /// `hooks(paths)` gives the config's "hooks" object, from the script's host and container paths.
        init(args: [String] = ["/bin/sleep", "100"], hooks: (HookFixture.Paths) -> [String: Any],
             configure: (inout [String: Any]) -> Void = { _ in }) throws {
            hookDirectory = try TemporaryDirectory("tether-hooks")
            try RuntimeHookTests.script.write(toFile: hookDirectory.path + "/hook.sh", atomically: true, encoding: .utf8)
            chmod(hookDirectory.path + "/hook.sh", 0o755)
            let paths = Paths(host: hookDirectory.path + "/hook.sh",
                              container: RuntimeHookTests.containerHookDirectory + "/hook.sh")
            let source = hookDirectory.path
            runtime = try RuntimeTests.Fixture(args: args) { config in
                config["hooks"] = hooks(paths)
                var mounts = config["mounts"] as? [[String: Any]] ?? []
                mounts.append(["destination": RuntimeHookTests.containerHookDirectory, "type": "bind", "source": source,
                               "options": ["rbind", "rw"]])
                config["mounts"] = mounts
                configure(&config)
            }
        }

        struct Paths {
            let host: String
            let container: String
        }

        /// The lines the hooks appended, in order.
        var log: [String] {
            ((try? String(contentsOfFile: hookDirectory.path + "/log", encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init)
        }

        /// The state JSON hook `name` got on stdin.
        func stdin(of name: String) -> [String: Any]? {
            guard let data = FileManager.default.contents(atPath: hookDirectory.path + "/\(name).json") else { return nil }
            return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        }

        func removeContainer() {
            _ = try? runtime.run(["delete", "-f", id])
        }
    }

    /// One hook entry: the script with `name` (and exit status, sleep seconds) as arguments.
    static func hook(_ path: String, _ name: String, exit: Int = 0, sleep: String? = nil, timeout: Int? = nil) -> [String: Any] {
        var entry: [String: Any] = ["path": path, "args": ["hook.sh", name, String(exit)] + (sleep.map { [$0] } ?? [])]
        if let timeout { entry["timeout"] = timeout }
        return entry
    }

    static func isAlive(_ pid: Int32) -> Bool { pid > 0 && kill(pid, 0) == 0 }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func everyPhaseRunsInOrderWithTheStateOnStdin() throws {
        let fixture = try HookFixture { paths in
            [
                "prestart": [Self.hook(paths.host, "prestart")],
                "createRuntime": [Self.hook(paths.host, "createRuntime")],
                "createContainer": [Self.hook(paths.host, "createContainer")],
                "startContainer": [Self.hook(paths.container, "startContainer")],
                "poststart": [Self.hook(paths.host, "poststart")],
                "poststop": [Self.hook(paths.host, "poststop", timeout: 10)],
            ]
        }
        defer { fixture.removeContainer() }
        let id = fixture.id
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, id])
        #expect(create.status == 0, "\(create)")
        #expect(fixture.log == ["prestart creating", "createRuntime creating", "createContainer creating"])
        let pid = try fixture.runtime.state(id)?["pid"] as? Int ?? -1
        #expect(pid > 0)

        let start = try fixture.runtime.run(["start", id])
        #expect(start.status == 0, "\(start)")
        #expect(fixture.log.suffix(2) == ["startContainer created", "poststart running"])
        #expect(try fixture.runtime.state(id)?["status"] as? String == "running")

        let delete = try fixture.runtime.run(["delete", "-f", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(fixture.log == ["prestart creating", "createRuntime creating", "createContainer creating",
                                "startContainer created", "poststart running", "poststop stopped"])

        // The state on stdin: the runtime's view (host pid) in the runtime namespace, the init's own pid
        // (1 in its pid namespace) for the hooks the init runs, no pid once stopped.
        let expectedPids: [String: Int?] = ["prestart": pid, "createRuntime": pid, "createContainer": 1, "startContainer": 1,
                                            "poststart": pid, "poststop": nil]
        for (name, expectedPid) in expectedPids {
            let state = fixture.stdin(of: name)
            #expect(state?["id"] as? String == id, "\(name): \(String(describing: state))")
            #expect(state?["bundle"] as? String == fixture.runtime.bundle, "\(name): \(String(describing: state))")
            #expect(state?["ociVersion"] as? String != nil, "\(name)")
            #expect(state?["pid"] as? Int == expectedPid, "\(name): \(String(describing: state))")
        }
    }

    /// runc runs startContainer after finalizeNamespace: the hook is already the process's user, with its groups
    /// and capabilities. With uid 1000 and CHOWN + KILL in every set (ambient too, so a non-root shell keeps them
    /// across its execve), the hook sees uid 1000 and CapEff 0x21 — not root with the init's full set.
    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func theStartContainerHookRunsAsTheProcessUserWithItsCapabilities() throws {
        let directory = Self.containerHookDirectory
        let fixture = try HookFixture(hooks: { _ in
            ["startContainer": [["path": "/bin/sh",
                                 "args": ["sh", "-c", "id -u > \(directory)/uid; grep CapEff /proc/self/status > \(directory)/caps"]]]]
        }, configure: { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["user"] = ["uid": 1000, "gid": 1000]
            let capabilities = ["CAP_CHOWN", "CAP_KILL"]
            process["capabilities"] = ["bounding": capabilities, "effective": capabilities, "permitted": capabilities,
                                       "inheritable": capabilities, "ambient": capabilities]
            config["process"] = process
        })
        defer { fixture.removeContainer() }
        chmod(fixture.hookDirectory.path, 0o777)  // written by uid 1000
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
        #expect(create.status == 0, "\(create)")
        let start = try fixture.runtime.run(["start", fixture.id])
        #expect(start.status == 0, "\(start)")
        func written(_ name: String) -> String? {
            (try? String(contentsOfFile: fixture.hookDirectory.path + "/" + name, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(written("uid") == "1000")
        #expect(written("caps")?.split(whereSeparator: \.isWhitespace).last == "0000000000000021",
                "\(String(describing: written("caps")))")
    }

    /// runc loads the seccomp filter before the startContainer hooks whether or not noNewPrivileges is set (with it,
    /// as late as it can but still before the exec fifo and the hooks; without it, before the capabilities are
    /// dropped): the hook runs under the process's filter, and with no_new_privs when the process has it.
    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"), arguments: [true, false])
    func theStartContainerHookRunsUnderTheProcessSeccompFilter(noNewPrivileges: Bool) throws {
        let directory = Self.containerHookDirectory
        let fixture = try HookFixture(hooks: { _ in
            ["startContainer": [["path": "/bin/sh",
                                 "args": ["sh", "-c", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status > \(directory)/status"]]]]
        }, configure: { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["noNewPrivileges"] = noNewPrivileges
            config["process"] = process
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [["names": ["acct"], "action": "SCMP_ACT_ERRNO"]]]
            config["linux"] = linux
        })
        defer { fixture.removeContainer() }
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
        #expect(create.status == 0, "\(create)")
        let start = try fixture.runtime.run(["start", fixture.id])
        #expect(start.status == 0, "\(start)")
        let status = (try? String(contentsOfFile: fixture.hookDirectory.path + "/status", encoding: .utf8)) ?? ""
        let fields = Dictionary(status.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields["Seccomp"] == "2", "filter mode: \(status)")
        #expect(fields["NoNewPrivs"] == (noNewPrivileges ? "1" : "0"), "\(status)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"),
          arguments: ["createRuntime", "createContainer"])
    func aFailingCreateHookFailsCreateAndLeavesNothingBehind(phase: String) throws {
        let cgroup = "tether-hooktest-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        let fixture = try HookFixture(hooks: { paths in
            var hooks: [String: Any] = [phase: [Self.hook(paths.host, phase, exit: 3)]]
            if phase == "createRuntime" { hooks["createContainer"] = [Self.hook(paths.host, "createContainer")] }
            hooks["poststop"] = [Self.hook(paths.host, "poststop")]
            return hooks
        }, configure: { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["cgroupsPath"] = "/" + cgroup
            config["linux"] = linux
        })
        defer { fixture.removeContainer() }
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
        #expect(create.status != 0, "\(create)")
        #expect(create.stderr.contains("hooks.\(phase)[0]"), "\(create)")
        #expect(create.stderr.contains("exited with status 3"), "\(create)")
        #expect(fixture.log == ["\(phase) creating"])

        #expect(!FileManager.default.fileExists(atPath: fixture.runtime.root + "/" + fixture.id), "state left behind")
        #expect(try fixture.runtime.state(fixture.id) == nil)
        for controller in ["pids", "memory", "cpu", "devices", "freezer"] {
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(controller)/\(cgroup)"), "\(controller) cgroup left behind")
        }
        if phase == "createRuntime" {
            let initPid = Int32(fixture.stdin(of: phase)?["pid"] as? Int ?? 0)
            #expect(initPid > 0)
            #expect(!Self.isAlive(initPid), "the container init \(initPid) survived")
        }
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aHookPastItsTimeoutIsKilledAndFailsCreate() throws {
        let fixture = try HookFixture { paths in
            ["createRuntime": [Self.hook(paths.host, "createRuntime", sleep: "27.31", timeout: 1)]]
        }
        defer { fixture.removeContainer() }
        let started = Date()
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
        #expect(create.status != 0, "\(create)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(create.stderr.contains("hooks.createRuntime[0]"), "\(create)")
        #expect(create.stderr.contains("timeout of 1 s"), "\(create)")
        // The hook's whole process group went (the script's `sleep` too), not only the script.
        let sleepers = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            (try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8))?.hasSuffix("sleep\u{0}27.31\u{0}") == true
        }
        #expect(sleepers.isEmpty, "left behind: \(sleepers)")
        #expect(!FileManager.default.fileExists(atPath: fixture.runtime.root + "/" + fixture.id), "state left behind")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aFailingStartContainerHookFailsStartAndRemovesTheContainer() throws {
        let fixture = try HookFixture { paths in
            [
                "startContainer": [Self.hook(paths.container, "startContainer", exit: 4)],
                "poststart": [Self.hook(paths.host, "poststart")],
            ]
        }
        defer { fixture.removeContainer() }
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
        #expect(create.status == 0, "\(create)")
        let pid = Int32(try fixture.runtime.state(fixture.id)?["pid"] as? Int ?? 0)
        let start = try fixture.runtime.run(["start", fixture.id])
        #expect(start.status != 0, "\(start)")
        #expect(start.stderr.contains("hooks.startContainer[0]") && start.stderr.contains("exited with status 4"), "\(start)")
        #expect(fixture.log == ["startContainer created"])
        #expect(try fixture.runtime.state(fixture.id) == nil)
        #expect(!Self.isAlive(pid) || (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z") == true)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aFailingPoststartHookKillsAndDeletesTheContainer() throws {
        let fixture = try HookFixture { paths in
            [
                "poststart": [Self.hook(paths.host, "poststart", exit: 5)],
                "poststop": [Self.hook(paths.host, "poststop")],
            ]
        }
        defer { fixture.removeContainer() }
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
        #expect(create.status == 0, "\(create)")
        let start = try fixture.runtime.run(["start", fixture.id])
        #expect(start.status != 0, "\(start)")
        #expect(start.stderr.contains("hooks.poststart[0]"), "\(start)")
        #expect(try fixture.runtime.state(fixture.id) == nil)
        #expect(fixture.log == ["poststart running", "poststop stopped"])
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aFailingPoststopHookIsAWarningAndTheOthersStillRun() throws {
        let fixture = try HookFixture { paths in
            ["poststop": [Self.hook(paths.host, "poststop-failing", exit: 4), Self.hook(paths.host, "poststop")]]
        }
        defer { fixture.removeContainer() }
        let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
        #expect(create.status == 0, "\(create)")
        let delete = try fixture.runtime.run(["delete", "-f", fixture.id])
        #expect(delete.status == 0, "\(delete)")
        #expect(delete.stderr.contains("warning") && delete.stderr.contains("hooks.poststop[0]"), "\(delete)")
        #expect(fixture.log == ["poststop-failing stopped", "poststop stopped"])
        #expect(!FileManager.default.fileExists(atPath: fixture.runtime.root + "/" + fixture.id))
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func badHooksAreRejectedNamingTheField() throws {
        let cases: [([String: Any], String)] = [
            (["createRuntime": [["path": "relative/hook"]]], "hooks.createRuntime[0].path"),
            (["poststop": [["path": "/bin/true"], ["path": "/bin/true", "timeout": 0]]], "hooks.poststop[1].timeout"),
        ]
        for (hooks, field) in cases {
            let fixture = try HookFixture { _ in hooks }
            defer { fixture.removeContainer() }
            let create = try fixture.runtime.runDetached(["create", "-b", fixture.runtime.bundle, fixture.id])
            #expect(create.status != 0, "\(create)")
            #expect(create.stderr.contains(field), "\(create)")
            #expect(!FileManager.default.fileExists(atPath: fixture.runtime.root + "/" + fixture.id))
        }
    }
}
