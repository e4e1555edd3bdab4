import Foundation
import Testing
import TetherTestSupport

/// Cgroup limits and the cgroup commands of tether-runtime (pause, resume, update, ps, events) against the real
/// kernel. This machine is a cgroup v1 hybrid, so v1 is exercised; the v2 device filter through the hybrid's
/// cgroup2 mount (/sys/fs/cgroup/unified); the other v2 test runs only on a v2-only host.
@Suite("tether-runtime cgroups")
struct RuntimeCgroupTests {
    typealias Fixture = RuntimeTests.Fixture

    static let v1Root = "/sys/fs/cgroup"
    static var isCgroupV2Only: Bool { FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") }
    static var hasV1Memory: Bool { FileManager.default.fileExists(atPath: v1Root + "/memory/memory.limit_in_bytes") }
    static var canRunV1: Bool { TestEnvironment.canRunContainers && hasV1Memory }

    /// A container whose cgroups sit at an absolute, known path, so the test can read the files.
    struct Container {
        let fixture: Fixture
        let id: String
        let cgroupName: String

        init(args: [String], resources: [String: Any], configure: @escaping (inout [String: Any]) -> Void = { _ in }) throws {
            let id = uniqueID("cg")
            let cgroupName = "tether-test-" + id
            fixture = try Fixture(args: args) { config in
                var linux = config["linux"] as? [String: Any] ?? [:]
                var merged = linux["resources"] as? [String: Any] ?? [:]
                for (key, value) in resources { merged[key] = value }
                linux["resources"] = merged
                linux["cgroupsPath"] = "/" + cgroupName
                config["linux"] = linux
                configure(&config)
            }
            self.id = id
            self.cgroupName = cgroupName
        }

        func path(_ controller: String) -> String { RuntimeCgroupTests.v1Root + "/\(controller)/" + cgroupName }

        func read(_ controller: String, _ file: String) -> String {
            ((try? String(contentsOfFile: path(controller) + "/" + file, encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func state() throws -> String? { try fixture.state(id)?["status"] as? String }

        func waitForStatus(_ wanted: String, attempts: Int = 300) throws -> Bool {
            for _ in 0..<attempts {
                if try state() == wanted { return true }
                usleep(20_000)
            }
            return false
        }

        /// Every controller directory this container could have.
        var cgroupDirectories: [String] {
            ["memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer", "blkio", "systemd", "unified"].map(path)
        }

        func cleanUp() {
            _ = try? fixture.run(["delete", "-f", id])
        }
    }

    /// `run` in the foreground through Process: it returns only once the container has exited, so no container
    /// process outlives it holding Process's hidden descriptor.
    static func startForegroundRun(_ container: Container, output: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RuntimeTests.runtime)
        process.arguments = ["--root", container.fixture.root, "run", "-b", container.fixture.bundle, container.id]
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        return process
    }

    @Test(.enabled(if: canRunV1, "needs root, the busybox rootfs and a cgroup v1 memory hierarchy"))
    func aMemoryHogIsOOMKilledAndEventsReportsIt() throws {
        var memory: [String: Any] = ["limit": 16 << 20]
        // Without swap accounting there is no memsw file and swap cannot absorb the hog anyway.
        if FileManager.default.fileExists(atPath: Self.v1Root + "/memory/memory.memsw.limit_in_bytes") { memory["swap"] = 16 << 20 }
        let container = try Container(args: ["/bin/sh", "-c", "sleep 1; x=a; while true; do x=$x$x; done"],
                                      resources: ["memory": memory])
        defer { container.cleanUp() }
        let run = try Self.startForegroundRun(container, output: container.fixture.directory.path + "/run.log")
        defer { if run.isRunning { run.terminate() } }
        #expect(try container.waitForStatus("running"))
        #expect(container.read("memory", "memory.limit_in_bytes") == "\(16 << 20)")

        let events = Process()
        events.executableURL = URL(fileURLWithPath: RuntimeTests.runtime)
        events.arguments = ["--root", container.fixture.root, "events", "--interval", "200ms", container.id]
        let pipe = Pipe()
        events.standardOutput = pipe
        events.standardError = pipe
        try events.run()
        defer { if events.isRunning { events.terminate() } }

        #expect(waitUntil(timeout: 60) { !run.isRunning })
        #expect(run.terminationStatus == 137, "run: \((try? String(contentsOfFile: container.fixture.directory.path + "/run.log", encoding: .utf8)) ?? "")")
        #expect(waitUntil(timeout: 10) { !events.isRunning }, "events did not stop with the container")
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.contains { $0["type"] as? String == "oom" && $0["id"] as? String == container.id }, "events: \(output)")
        // Any stats line before the OOM must carry runc's shape.
        for line in lines where line["type"] as? String == "stats" { #expect(line["data"] is [String: Any], "events: \(output)") }
    }

    @Test(.enabled(if: canRunV1, "needs root, the busybox rootfs and cgroup v1"))
    func aPidsLimitStopsAForkBomb() throws {
        let container = try Container(args: ["/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait"],
                                      resources: ["pids": ["limit": 5]])
        defer { container.cleanUp() }
        let log = container.fixture.directory.path + "/run.log"
        let run = try Self.startForegroundRun(container, output: log)
        defer { if run.isRunning { run.terminate() } }
        var highest = 0
        var sawLimit = false
        let deadline = Date().addingTimeInterval(30)
        while run.isRunning && Date() < deadline {
            if container.read("pids", "pids.max") == "5" { sawLimit = true }
            highest = max(highest, Int(container.read("pids", "pids.current")) ?? 0)
            usleep(5_000)
        }
        #expect(waitUntil(timeout: 10) { !run.isRunning })
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(sawLimit)
        #expect(highest <= 5, "pids.current reached \(highest)")
        #expect(output.contains("can't fork") || output.contains("Resource temporarily unavailable"), "\(output)")
    }

    @Test(.enabled(if: canRunV1, "needs root, the busybox rootfs and cgroup v1"))
    func limitsAreWrittenAtCreateAndChangedByUpdate() throws {
        let container = try Container(args: ["/bin/sleep", "100"], resources: [
            "memory": ["limit": 64 << 20, "reservation": 32 << 20],
            "cpu": ["shares": 512, "quota": 25000, "period": 100000, "cpus": "0", "mems": "0"],
            "pids": ["limit": 50],
        ])
        defer { container.cleanUp() }
        let create = try container.fixture.runDetached(["create", "-b", container.fixture.bundle, container.id])
        #expect(create.status == 0, "\(create)")
        #expect(container.read("memory", "memory.limit_in_bytes") == "\(64 << 20)")
        #expect(container.read("memory", "memory.soft_limit_in_bytes") == "\(32 << 20)")
        #expect(container.read("cpu", "cpu.shares") == "512")
        #expect(container.read("cpu", "cpu.cfs_quota_us") == "25000")
        #expect(container.read("cpu", "cpu.cfs_period_us") == "100000")
        #expect(container.read("cpuset", "cpuset.cpus") == "0")
        #expect(container.read("pids", "pids.max") == "50")
        #expect(container.read("devices", "devices.list").contains("c 1:3 rwm"))
        #expect(!container.read("devices", "devices.list").contains("a *:* rwm"))

        let byFlags = try container.fixture.run(["update", "--memory", "32m", "--cpu-quota", "30000", "--pids-limit", "20", container.id])
        #expect(byFlags.status == 0, "\(byFlags)")
        #expect(container.read("memory", "memory.limit_in_bytes") == "\(32 << 20)")
        #expect(container.read("cpu", "cpu.cfs_quota_us") == "30000")
        #expect(container.read("pids", "pids.max") == "20")
        #expect(container.read("cpu", "cpu.shares") == "512", "a partial update leaves the rest alone")

        let file = container.fixture.directory.path + "/resources.json"
        try #"{"memory": {"limit": 50331648}, "cpu": {"shares": 256}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let byFile = try container.fixture.run(["update", "-r", file, container.id])
        #expect(byFile.status == 0, "\(byFile)")
        #expect(container.read("memory", "memory.limit_in_bytes") == "50331648")
        #expect(container.read("cpu", "cpu.shares") == "256")

        let fromStdin = try runCommand(RuntimeTests.runtime, ["--root", container.fixture.root, "update", "-r", "-", container.id],
                                       stdin: #"{"pids": {"limit": 9}}"#)
        #expect(fromStdin.status == 0, "\(fromStdin)")
        #expect(container.read("pids", "pids.max") == "9")

        let bad = try container.fixture.run(["update", "--memory", "lots", container.id])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--memory"), "\(bad)")

        #expect(try container.fixture.run(["delete", "-f", container.id]).status == 0)
        for directory in container.cgroupDirectories {
            #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) left behind")
        }
    }

    /// As runc, `update` merges what it is given into the resources kept in state.json: a second update starts
    /// from the first, and `state`, `ps` and `events --stats` still read the container.
    @Test(.enabled(if: canRunV1, "needs root, the busybox rootfs and cgroup v1"))
    func updateKeepsTheNewResourcesInTheState() throws {
        let container = try Container(args: ["/bin/sleep", "100"], resources: [
            "memory": ["limit": 64 << 20], "cpu": ["shares": 512], "pids": ["limit": 50],
        ])
        defer { container.cleanUp() }
        let run = try container.fixture.runDetached(["run", "-d", "-b", container.fixture.bundle, container.id])
        try #require(run.status == 0, "\(run)")
        func keptResources() throws -> [String: Any]? {
            let data = try Data(contentsOf: URL(fileURLWithPath: container.fixture.root + "/" + container.id + "/state.json"))
            return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["resources"] as? [String: Any]
        }
        func member(_ resources: [String: Any]?, _ section: String, _ key: String) -> Int? {
            (resources?[section] as? [String: Any])?[key] as? Int
        }
        let created = try keptResources()
        #expect(member(created, "memory", "limit") == 64 << 20, "\(String(describing: created))")
        #expect((created?["devices"] as? [Any])?.isEmpty == false, "create keeps the device rules it applied")

        let first = try container.fixture.run(["update", "--memory", "32m", "--pids-limit", "20", container.id])
        #expect(first.status == 0, "\(first)")
        let second = try runCommand(RuntimeTests.runtime, ["--root", container.fixture.root, "update", "-r", "-", container.id],
                                    stdin: #"{"cpu": {"quota": 30000, "period": 100000}}"#)
        #expect(second.status == 0, "\(second)")
        let updated = try keptResources()
        #expect(member(updated, "memory", "limit") == 32 << 20, "\(String(describing: updated))")
        #expect(member(updated, "pids", "limit") == 20, "the second update kept the first one's pids limit")
        #expect(member(updated, "cpu", "shares") == 512, "create's shares survive both updates")
        #expect(member(updated, "cpu", "quota") == 30000 && member(updated, "cpu", "period") == 100000)
        #expect(container.read("cpu", "cpu.cfs_quota_us") == "30000")
        #expect(container.read("memory", "memory.limit_in_bytes") == "\(32 << 20)")

        // The rewritten state.json is still the container's.
        #expect(try container.state() == "running")
        let pid = try container.fixture.state(container.id)?["pid"] as? Int ?? 0
        let ps = try container.fixture.run(["ps", "-f", "json", container.id])
        #expect(ps.status == 0 && ps.stdout.contains(String(pid)), "\(ps)")
        let stats = try container.fixture.run(["events", "--stats", container.id])
        let event = try? JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        let usage = ((event?["data"] as? [String: Any])?["memory"] as? [String: Any])?["usage"] as? [String: Any]
        #expect(usage?["limit"] as? Int == 32 << 20, "\(stats)")
    }

    @Test(.enabled(if: canRunV1, "needs root, the busybox rootfs and cgroup v1"))
    func pauseFreezesAndResumeThawsAndPsListsTheInit() throws {
        let container = try Container(args: ["/bin/sleep", "100"], resources: [:])
        defer { container.cleanUp() }
        #expect(try container.fixture.runDetached(["run", "-d", "-b", container.fixture.bundle, container.id]).status == 0)
        let pid = try container.fixture.state(container.id)?["pid"] as? Int ?? 0
        #expect(pid > 0)

        let json = try container.fixture.run(["ps", "-f", "json", container.id])
        #expect(json.status == 0, "\(json)")
        let pids = (try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Int]) ?? []
        #expect(pids.contains(pid), "\(json)")
        let table = try container.fixture.run(["ps", container.id])
        #expect(table.stdout.split(separator: "\n").first?.contains("PID") == true, "\(table)")
        #expect(table.stdout.contains("sleep 100"), "\(table)")

        #expect(try container.fixture.run(["pause", container.id]).status == 0)
        #expect(try container.state() == "paused")
        #expect(container.read("freezer", "freezer.state") == "FROZEN")
        let again = try container.fixture.run(["pause", container.id])
        #expect(again.status != 0 && again.stderr.contains("paused"), "\(again)")

        #expect(try container.fixture.run(["resume", container.id]).status == 0)
        #expect(try container.state() == "running")
        #expect(container.read("freezer", "freezer.state") == "THAWED")
        #expect(processIsAlive(Int32(pid)))

        let stats = try container.fixture.run(["events", "--stats", container.id])
        let event = try? JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        let data = event?["data"] as? [String: Any]
        #expect(event?["type"] as? String == "stats", "\(stats)")
        #expect(((data?["pids"] as? [String: Any])?["current"] as? Int ?? 0) >= 1, "\(stats)")
        #expect(((data?["memory"] as? [String: Any])?["usage"] as? [String: Any])?["usage"] != nil, "\(stats)")
    }

    @Test(.enabled(if: canRunV1 && FileManager.default.fileExists(atPath: "/dev/kmsg"), "needs root, the busybox rootfs, cgroup v1 and /dev/kmsg"))
    func aDeviceOutsideTheAllowListCannotBeOpened() throws {
        let container = try Container(args: ["/bin/sh", "-c", "echo x > /dev/null && echo null-ok; echo x > /dev/kmsg && echo kmsg-open"],
                                      resources: [:]) { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["bind"]])
            config["mounts"] = mounts
        }
        defer { container.cleanUp() }
        let result = try container.fixture.run(["run", "-b", container.fixture.bundle, container.id])
        #expect(result.stdout.contains("null-ok"), "\(result)")
        #expect(!result.stdout.contains("kmsg-open"), "\(result)")
        #expect((result.stdout + result.stderr).contains("Operation not permitted"), "\(result)")
    }

    @Test(.enabled(if: canRunV1 && FileManager.default.fileExists(atPath: "/dev/net/tun"),
                   "needs root, the busybox rootfs, cgroup v1 and the tun driver (/dev/net/tun)"))
    func aDeviceTheConfigCreatesIsAllowed() throws {
        let container = try Container(args: ["/bin/sh", "-c", "exec 3<>/dev/net/tun && echo tun-open"], resources: [:]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["devices"] = [["path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o600]]
            config["linux"] = linux
        }
        defer { container.cleanUp() }
        let result = try container.fixture.run(["run", "-b", container.fixture.bundle, container.id])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("tun-open"), "linux.devices are on the allow-list, as with runc: \(result)")
    }

    /// Where cgroup2 is mounted (v2-only or hybrid), nil without it.
    static var cgroup2Mount: String? {
        if isCgroupV2Only { return v1Root }
        return FileManager.default.fileExists(atPath: v1Root + "/unified/cgroup.procs") ? v1Root + "/unified" : nil
    }

    /// Runs `container` detached; returns the host path of the cgroup v2 directory its init is in.
    static func runDetachedInV2Cgroup(_ container: Container) throws -> String {
        let run = try container.fixture.runDetached(["run", "-d", "-b", container.fixture.bundle, container.id])
        try #require(run.status == 0, "\(run)")
        let pid = try container.fixture.state(container.id)?["pid"] as? Int ?? 0
        let membership = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        let v2Path = try #require(membership.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) })
        return try #require(Self.cgroup2Mount) + v2Path
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers && cgroup2Mount != nil && FileManager.default.fileExists(atPath: "/dev/net/tun"),
                   "needs root, the busybox rootfs, a cgroup2 mount and the tun driver (/dev/net/tun)"))
    func theV2DeviceFilterEnforcesTheAllowList() throws {
        let container = try Container(args: ["/bin/sleep", "100"], resources: [:]) { _ in }
        defer { container.cleanUp() }
        let directory = try Self.runDetachedInV2Cgroup(container)
        // A host shell that joins only the container's v2 cgroup: its v1 devices cgroup stays the host's (allow
        // all), so whatever it is refused comes from the eBPF program.
        let probe = "echo $$ > \(directory)/cgroup.procs || exit 9; echo x > /dev/null && echo null-ok; "
            + "head -c1 /dev/zero >/dev/null && echo zero-ok; (exec 3<>/dev/net/tun) && echo tun-open; echo"
        let result = try runCommand("/bin/sh", ["-c", probe])
        #expect(result.stdout.contains("null-ok"), "\(result)")
        #expect(result.stdout.contains("zero-ok"), "\(result)")
        #expect(!result.stdout.contains("tun-open"), "\(result)")
        #expect(result.stderr.contains("Operation not permitted"), "\(result)")
    }

    /// runc's LoadAttachCgroupDeviceFilter: an update with device rules puts a new program in the old one's place.
    /// Under BPF_F_ALLOW_MULTI every attached program must allow an access, so /dev/net/tun opening after the
    /// update that allows it shows the old filter is gone; a second update without it denies it again.
    @Test(.enabled(if: TestEnvironment.canRunContainers && cgroup2Mount != nil && FileManager.default.fileExists(atPath: "/dev/net/tun"),
                   "needs root, the busybox rootfs, a cgroup2 mount and the tun driver (/dev/net/tun)"))
    func anUpdateWithDeviceRulesReplacesTheV2DeviceFilter() throws {
        let container = try Container(args: ["/bin/sleep", "100"], resources: [:]) { _ in }
        defer { container.cleanUp() }
        let directory = try Self.runDetachedInV2Cgroup(container)
        /// From a host shell in only the container's v2 cgroup (its v1 devices cgroup stays the host's).
        func tunOpens() throws -> Bool {
            let probe = "echo $$ > \(directory)/cgroup.procs || exit 9; echo x > /dev/null || exit 8; "
                + "(exec 3<>/dev/net/tun) 2>/dev/null && echo tun-open; exit 0"
            let result = try runCommand("/bin/sh", ["-c", probe])
            #expect(result.status == 0, "\(result)")
            return result.stdout.contains("tun-open")
        }
        #expect(try !tunOpens(), "create's filter denies /dev/net/tun")

        let allowTun = #"{"devices": [{"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]}"#
        let allow = try runCommand(RuntimeTests.runtime, ["--root", container.fixture.root, "update", "-r", "-", container.id],
                                   stdin: allowTun)
        #expect(allow.status == 0, "\(allow)")
        #expect(try tunOpens(), "the update's filter allows /dev/net/tun and create's is no longer attached")

        let deny = try runCommand(RuntimeTests.runtime, ["--root", container.fixture.root, "update", "-r", "-", container.id],
                                  stdin: #"{"devices": []}"#)
        #expect(deny.status == 0, "\(deny)")
        #expect(try !tunOpens(), "the second update's filter replaced the first")
        #expect(try container.state() == "running")
    }

    @Test(.enabled(if: canRunV1, "needs root, the busybox rootfs and cgroup v1"))
    func aBadValueFailsCreateNamingItAndLeavesNothing() throws {
        let cases: [([String: Any], [String])] = [
            (["unified": ["memory.max": "16777216"]], ["linux.resources.unified"]),
            (["cpu": ["cpus": "abc"]], ["cpuset.cpus", "abc", "linux.resources.cpu.cpus"]),
            (["memory": ["swappiness": 150]], ["linux.resources.memory.swappiness"]),
        ]
        for (resources, mentions) in cases {
            let container = try Container(args: ["/bin/true"], resources: resources)
            defer { container.cleanUp() }
            let create = try container.fixture.runDetached(["create", "-b", container.fixture.bundle, container.id])
            #expect(create.status != 0, "\(create)")
            for text in mentions { #expect(create.stderr.contains(text), "\(text) not in: \(create.stderr)") }
            #expect(create.stderr.split(separator: "\n").count == 1, "one error line: \(create.stderr)")
            #expect(!FileManager.default.fileExists(atPath: container.fixture.root + "/" + container.id))
            for directory in container.cgroupDirectories {
                #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) left behind")
            }
        }
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers && isCgroupV2Only,
                   "needs a cgroup v2-only host: this one mounts cgroup v1 controllers (hybrid), where v2 limits are not used"))
    func cgroupV2LimitsPauseAndUnified() throws {
        let id = uniqueID("cg")
        let fixture = try Fixture(args: ["/bin/sleep", "100"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["cgroupsPath"] = "/tether-test-" + id
            linux["resources"] = ["memory": ["limit": 64 << 20], "cpu": ["shares": 1024, "quota": 50000, "period": 100000],
                                  "pids": ["limit": 30], "unified": ["memory.high": "50331648"]]
            config["linux"] = linux
        }
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        let directory = "/sys/fs/cgroup/tether-test-" + id
        func read(_ file: String) -> String {
            ((try? String(contentsOfFile: directory + "/" + file, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try fixture.runDetached(["run", "-d", "-b", fixture.bundle, id]).status == 0)
        #expect(read("memory.max") == "\(64 << 20)")
        #expect(read("memory.high") == "50331648")
        #expect(read("cpu.max") == "50000 100000")
        #expect(read("cpu.weight") == "39")
        #expect(read("pids.max") == "30")
        #expect(try fixture.run(["pause", id]).status == 0)
        #expect(try fixture.state(id)?["status"] as? String == "paused")
        #expect(read("cgroup.events").contains("frozen 1"))
        #expect(try fixture.run(["resume", id]).status == 0)
        #expect(try fixture.state(id)?["status"] as? String == "running")
        #expect(try fixture.run(["update", "--memory", "32m", id]).status == 0)
        #expect(read("memory.max") == "\(32 << 20)")
        #expect(try fixture.run(["delete", "-f", id]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }
}
