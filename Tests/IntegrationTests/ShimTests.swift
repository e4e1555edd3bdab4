import Foundation
import TetherAPI
import Testing
import TetherTestSupport

/// tether-shim driven through tether-harness and the built binaries, as root, on the busybox rootfs.
@Suite("tether-shim through tether-harness")
struct ShimTests {
    static let posix = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

    @Test("the shim is the container init's parent; no runtime process remains after Start",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func processTree() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        let initPid = try shim.createAndStart()
        let shimPid = shim.shimPid
        #expect(initPid > 0 && shimPid > 0)
        #expect(ProcStat.read(initPid)?.ppid == shimPid)
        // One thread: what makes forking the runtime from the shim safe.
        let status = try String(contentsOfFile: "/proc/\(shimPid)/status", encoding: .utf8)
        #expect(status.split(separator: "\n").contains("Threads:\t1"), "\(status)")
        // Only the init is a child of the shim: nothing like a runtime process was left behind.
        let children = ProcStat.children(of: shimPid).filter { $0.state != "Z" }.map(\.pid)
        #expect(children == [initPid])
        let state = try shim.call("state")
        #expect(state["status"] as? String == "RUNNING")
        #expect(shim.event("/tasks/start") { ($0["pid"] as? Int) == Int(initPid) } != nil)
    }

    @Test("kill -9 of the init's host pid: Wait, State and TaskExit say 137",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func killNineFromTheHost() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        let initPid = try shim.createAndStart()
        #expect(kill(initPid, SIGKILL) == 0)
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == 137)
        let state = try shim.call("state")
        #expect(state["status"] as? String == "STOPPED")
        #expect(exitStatus(state) == 137)
        let exit = shim.event("/tasks/exit") { ($0["container_id"] as? String) == shim.id }
        #expect(exit?["exit_status"] as? Int == 137)
        let deleted = try shim.call("delete")
        #expect(exitStatus(deleted) == 137)
        #expect(shim.event("/tasks/delete") != nil)
    }

    /// (expected status, container command, signal sent by Kill or nil). Signal cases run without a pid
    /// namespace so that the default action applies (a namespace's PID 1 ignores default-action signals).
    static let exitCases: [(Int, [String], String?)] = [
        (0, ["sh", "-c", "exit 0"], nil),
        (7, ["sh", "-c", "exit 7"], nil),
        (137, ["sleep", "1000"], "SIGKILL"),
        (143, ["sleep", "1000"], "SIGTERM"),
    ]

    @Test("exit codes 0, 7, 137, 143 reported by Wait, State and TaskExit",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"),
          arguments: 0..<4)
    func exitCodes(index: Int) throws {
        let (expected, args, signal) = Self.exitCases[index]
        let shim = try ShimHarnessFixture(args: args, pidNamespace: signal == nil)
        try shim.createAndStart()
        if let signal { try shim.call("kill", ["--signal", signal]) }
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == expected, "\(args)")
        let state = try shim.call("state")
        #expect(state["status"] as? String == "STOPPED")
        #expect(exitStatus(state) == expected)
        let exit = shim.event("/tasks/exit") { ($0["container_id"] as? String) == shim.id }
        #expect(exitStatus(exit ?? [:]) == expected)
        // A process's start is published before its exit, even when it exits at once.
        let topics = shim.events.compactMap { $0["topic"] as? String }
        #expect(topics == ["/tasks/create", "/tasks/start", "/tasks/exit"], "\(topics)")
        // The durable record agrees.
        let record = try String(contentsOfFile: shim.bundle + "/exit-status", encoding: .utf8)
        #expect(record.contains("\"status\":\(expected)"))
    }

    @Test("1,000 double-forked children leave zero zombies under the shim",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func doubleForkLeavesNoZombies() throws {
        // No pid namespace: the orphans are re-parented to the nearest subreaper, the shim.
        let script = "i=0; while [ $i -lt 1000 ]; do ( sleep 0 & ); i=$((i+1)); done; sleep 1; exit 0"
        let shim = try ShimHarnessFixture(args: ["sh", "-c", script], pidNamespace: false)
        try shim.createAndStart()
        let shimPid = shim.shimPid
        let wait = try shim.call("wait", ["--timeout", "120"], timeout: 150)
        #expect(exitStatus(wait) == 0)
        // Reaped on SIGCHLD or at the latest on the 1 s tick.
        let clean = waitUntil(timeout: 10) { ProcStat.children(of: shimPid).allSatisfy { $0.state != "Z" } }
        #expect(clean, "zombies: \(ProcStat.children(of: shimPid).filter { $0.state == "Z" }.count)")
        #expect(ProcStat.isAlive(shimPid))
    }

    @Test("processes the init leaves behind die with it, with and without a pid namespace of its own",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"),
          arguments: [true, false])
    func leftoverProcessesDieWithTheInit(pidNamespace: Bool) throws {
        // With its own pid namespace the kernel kills them; in the host's (shared) one the shim does, as
        // containerd's runc shim (ShouldKillAllOnExit).
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "sleep 1000 & sleep 1000 & sleep 0.5; exit 3"],
                                          pidNamespace: pidNamespace)
        let initPid = try shim.createAndStart()
        var leftovers: [Int32] = []
        #expect(waitUntil(timeout: 10) {
            leftovers = ProcStat.children(of: initPid).map(\.pid)
            return leftovers.count >= 2  // the two sleeps 1000 (and the foreground sleep 0.5)
        }, "children of the init: \(leftovers)")
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == 3)
        #expect(waitUntil(timeout: 5) { leftovers.allSatisfy { !ProcStat.isAlive($0) } },
                "still alive after the init's exit: \(leftovers.filter { ProcStat.isAlive($0) })")
    }

    @Test("a harness killed during Wait: a new harness gets the exit that happened meanwhile",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func waitAcrossHarnesses() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 5"])
        let initPid = try shim.createAndStart()
        let waiter = Process()
        waiter.executableURL = URL(fileURLWithPath: ShimHarnessFixture.harness)
        waiter.arguments = ["wait", "--socket", shim.address, "--id", shim.id]
        waiter.standardOutput = FileHandle.nullDevice
        waiter.standardError = FileHandle.nullDevice
        try waiter.run()
        usleep(300_000)
        #expect(waiter.isRunning)
        kill(waiter.processIdentifier, SIGKILL)
        waiter.waitUntilExit()
        // The exit happens while no harness is connected.
        #expect(FileManager.default.createFile(atPath: "/proc/\(initPid)/root/tmp/go", contents: nil))
        #expect(waitUntil(timeout: 20) { !ProcStat.isAlive(initPid) })
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == 5)
        let state = try shim.call("state")
        #expect(exitStatus(state) == 5)
        #expect(state["status"] as? String == "STOPPED")
    }

    @Test("tty: stty size follows ResizePty",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func ttyResize() throws {
        let shim = try ShimHarnessFixture(args: ["sh"], terminal: true)
        let fifos = try FIFOPair(in: shim.directory.path)
        try shim.createAndStart(["--terminal", "--stdin", fifos.stdinPath, "--stdout", fifos.stdoutPath])
        try shim.call("resize", ["--width", "100", "--height", "40"])
        fifos.write("stty size\n")
        #expect(fifos.read(until: "40 100"), "output: \(fifos.output)")
        try shim.call("resize", ["--width", "132", "--height", "50"])
        fifos.write("stty size\n")
        #expect(fifos.read(until: "50 132"), "output: \(fifos.output)")
        fifos.write("exit 3\n")
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == 3)
    }

    @Test("CloseIO closes stdin and cat exits",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func closeIOEndsCat() throws {
        let shim = try ShimHarnessFixture(args: ["cat"])
        let fifos = try FIFOPair(in: shim.directory.path)
        try shim.createAndStart(["--stdin", fifos.stdinPath, "--stdout", fifos.stdoutPath])
        fifos.write("hello through the shim\n")
        #expect(fifos.read(until: "hello through the shim"), "output: \(fifos.output)")
        try shim.call("close-io")
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == 0)
    }

    @Test("stdin: the shim waits for a writer; when the last writer closes, the process sees EOF",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func stdinEOFWhenTheWriterCloses() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "sleep 0.3; cat; exit 9"])
        let stdin = shim.directory.path + "/stdin.fifo"
        let stdout = shim.directory.path + "/stdout.fifo"
        #expect(mkfifo(stdin, 0o600) == 0 && mkfifo(stdout, 0o600) == 0)
        let reader = open(stdout, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        defer { close(reader) }
        try shim.createAndStart(["--stdin", stdin, "--stdout", stdout])
        // No writer yet: cat keeps waiting.
        usleep(500_000)
        #expect((try shim.call("state"))["status"] as? String == "RUNNING")
        let writer = open(stdin, O_WRONLY | O_CLOEXEC)  // the shim holds the read side: never blocks
        #expect(writer >= 0)
        _ = "bye\n".withCString { write(writer, $0, 4) }
        close(writer)
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 9)
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(reader, &buffer, buffer.count)
        #expect(n == 4 && String(decoding: buffer[0..<max(n, 0)], as: UTF8.self) == "bye\n")
    }

    @Test("tether-harness attach streams stdin to the process and its output back until it exits",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func attach() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "read line; echo \"got $line\"; echo done >&2"])
        let directory = shim.directory.path
        for name in ["in", "out", "err"] { #expect(mkfifo(directory + "/" + name, 0o600) == 0) }
        try shim.createAndStart(["--stdin", directory + "/in", "--stdout", directory + "/out", "--stderr", directory + "/err"])
        let result = try runCommand(ShimHarnessFixture.harness, ["attach", "--stdin", directory + "/in", "--stdout", directory + "/out",
                                                                 "--stderr", directory + "/err"], stdin: "hello\n", timeout: 30)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "got hello\n", "\(result)")
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 0)
    }

    @Test("stdout reader killed while the container writes 100 MB: the container finishes, the shim answers",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func deadReaderNeverWedges() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "yes 0123456789abcdef | head -c 104857600; exit 0"])
        let fifo = shim.directory.path + "/stdout"
        #expect(mkfifo(fifo, 0o600) == 0)
        // A reader that reads a little and is then killed.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        reader.standardOutput = FileHandle.nullDevice
        try reader.run()
        try shim.createAndStart(["--stdout", fifo])
        usleep(200_000)
        kill(reader.processIdentifier, SIGKILL)
        reader.waitUntilExit()
        let wait = try shim.call("wait", ["--timeout", "120"], timeout: 150)
        #expect(exitStatus(wait) == 0)
        let state = try shim.call("state", timeout: 10)
        #expect(state["status"] as? String == "STOPPED")
        #expect((try shim.call("connect", timeout: 10))["shim_pid"] as? Int != nil)
    }

    @Test("SIGTERM sent to the shim is forwarded to the init; the shim keeps serving",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func signalsAreForwarded() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.05; done"])
        let initPid = try shim.createAndStart()
        let shimPid = shim.shimPid
        // The trap is set once the shell runs its loop: a sleep child shows it got there.
        #expect(waitUntil(timeout: 10) { !ProcStat.children(of: initPid).isEmpty })
        // Signals the shim does not handle stay blocked: they never kill the supervisor.
        #expect(kill(shimPid, SIGALRM) == 0 && kill(shimPid, SIGQUIT) == 0 && kill(shimPid, SIGTSTP) == 0)
        usleep(200_000)
        #expect(ProcStat.isAlive(shimPid) && ProcStat.read(shimPid)?.state != "T")
        #expect(kill(shimPid, SIGTERM) == 0)
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == 42)
        #expect(ProcStat.isAlive(shimPid))
        #expect((try shim.call("state"))["status"] as? String == "STOPPED")
    }

    @Test("Pause and Resume freeze and thaw the container, with TaskPaused and TaskResumed",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func pauseAndResume() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        try shim.call("pause")
        #expect((try shim.call("state"))["status"] as? String == "PAUSED")
        #expect(try shim.rpc("pause").stderr.contains("FAILED_PRECONDITION"))
        #expect(try shim.rpc("delete").stderr.contains("FAILED_PRECONDITION"))
        try shim.call("resume")
        #expect((try shim.call("state"))["status"] as? String == "RUNNING")
        #expect(shim.event("/tasks/paused") != nil)
        #expect(shim.event("/tasks/resumed") != nil)
        try shim.call("kill", ["--signal", "SIGKILL"])
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 137)
    }

    @Test("Stats: cgroup v1 metrics as io.containerd.cgroups.v1.Metrics (pids, memory usage)",
          .enabled(if: TestEnvironment.canRunContainers && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.stat"),
                   "needs root, the busybox rootfs and cgroup v1"))
    func stats() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        let reply = try shim.call("stats")
        #expect(reply["type_url"] as? String == "io.containerd.cgroups.v1.Metrics")
        let bytes = [UInt8](Data(base64Encoded: reply["value"] as? String ?? "") ?? Data())
        let metrics = try Io_Containerd_Cgroups_V1_Metrics(serializedBytes: bytes)
        #expect(metrics.pids.current >= 1)
        #expect(metrics.memory.usage.usage > 0 && metrics.memory.usage.limit > 0)
        #expect(metrics.memory.totalRss + metrics.memory.totalCache > 0, "memory.stat's totals")
        #expect(metrics.cpu.usage.total > 0 && !metrics.cpu.usage.perCpu.isEmpty)
        try shim.call("kill", ["--signal", "SIGKILL"])
        try shim.call("wait", ["--timeout", "30"])
        #expect(try shim.rpc("stats").stderr.contains("FAILED_PRECONDITION"))
    }

    @Test("Stats on cgroup v2: io.containerd.cgroups.v2.Metrics with the limits Update wrote",
          .enabled(if: TestEnvironment.canRunContainers && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers"),
                   "needs a cgroup v2-only host (root, the busybox rootfs and /sys/fs/cgroup/cgroup.controllers)"))
    func statsV2() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        try shim.call("update", ["--memory", "67108864", "--pids", "50"])
        let reply = try shim.call("stats")
        #expect(reply["type_url"] as? String == "io.containerd.cgroups.v2.Metrics")
        let bytes = [UInt8](Data(base64Encoded: reply["value"] as? String ?? "") ?? Data())
        let metrics = try Io_Containerd_Cgroups_V2_Metrics(serializedBytes: bytes)
        #expect(metrics.pids.current >= 1 && metrics.pids.limit == 50)
        #expect(metrics.memory.usage > 0 && metrics.memory.usageLimit == 67108864)
        #expect(metrics.cpu.usageUsec > 0)
        #expect(metrics.hasMemoryEvents && metrics.memoryEvents.oomKill == 0)
        try shim.call("kill", ["--signal", "SIGKILL"])
        try shim.call("wait", ["--timeout", "30"])
        #expect(try shim.rpc("stats").stderr.contains("FAILED_PRECONDITION"))
    }

    @Test("Update writes memory, cpu and pids limits to the task's cgroups",
          .enabled(if: TestEnvironment.canRunContainers && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.stat"),
                   "needs root, the busybox rootfs and cgroup v1"))
    func update() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        let pid = try shim.createAndStart()
        try shim.call("update", ["--memory", "67108864", "--cpu-shares", "512", "--pids", "50"])
        let cgroups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false) }
        func directory(_ controller: String) -> String {
            guard let line = cgroups.first(where: { $0.count == 3 && $0[1].split(separator: ",").contains(Substring(controller)) }) else { return "" }
            return "/sys/fs/cgroup/\(line[1])\(line[2])"
        }
        func read(_ path: String) -> String {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(read(directory("memory") + "/memory.limit_in_bytes") == "67108864")
        #expect(read(directory("cpu") + "/cpu.shares") == "512")
        #expect(read(directory("pids") + "/pids.max") == "50")
        #expect(try shim.rpc("update", ["--pids", "10"], id: "no-such-container").stderr.contains("NOT_FOUND"))
        #expect(try shim.rpc("update").stderr.contains("nothing to update"))
    }

    @Test("bad input on the RPCs gets the runc shim's error statuses",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func badInput() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        func expectStatus(_ command: String, _ extra: [String], id: String? = nil, _ code: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
            let result = try shim.rpc(command, extra, id: id)
            #expect(result.status == 1, "\(command): \(result)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(code), "\(command): \(result)", sourceLocation: sourceLocation)
        }
        try expectStatus("state", [], id: "no-such-container", "NOT_FOUND")
        try expectStatus("wait", [], id: "no-such-container", "NOT_FOUND")
        try expectStatus("kill", [], id: "no-such-container", "NOT_FOUND")
        try expectStatus("state", ["--exec-id", "no-such-exec"], "NOT_FOUND")
        try expectStatus("start", [], "FAILED_PRECONDITION")
        try expectStatus("delete", [], "FAILED_PRECONDITION")
        try expectStatus("create", ["--bundle", shim.bundle], "ALREADY_EXISTS")
        try shim.call("exec", ["--exec-id", "e1", "--", "true"])
        try expectStatus("exec", ["--exec-id", "e1", "--", "true"], "ALREADY_EXISTS")
        try expectStatus("resize", ["--width", "80", "--height", "24"], "FAILED_PRECONDITION")
        // A dead socket: one clear error, no hang.
        let dead = try runCommand(ShimHarnessFixture.harness,
                                  ["state", "--socket", shim.directory.path + "/nothing.sock", "--id", shim.id])
        #expect(dead.status != 0 && dead.stderr.contains("cannot connect"), "\(dead)")
        // A wrong flag.
        let wrong = try runCommand(ShimHarnessFixture.harness, ["state", "--socket", shim.address, "--id", shim.id, "--bogus"])
        #expect(wrong.status != 0 && wrong.stderr.contains("bogus"), "\(wrong)")
    }
}

/// The exit status in a reply printed as protobuf JSON (zero fields are omitted); nil for no reply at all.
func exitStatus(_ reply: [String: Any]) -> Int? {
    reply.isEmpty ? nil : (reply["exit_status"] as? Int ?? 0)
}

/// A stdin and a stdout FIFO held by the test: stdin opened read-write (never blocks), stdout read non-blocking.
final class FIFOPair {
    let stdinPath: String
    let stdoutPath: String
    private let stdinFD: Int32
    private let stdoutFD: Int32
    private(set) var output = ""

    init(in directory: String) throws {
        stdinPath = directory + "/stdin"
        stdoutPath = directory + "/stdout"
        guard mkfifo(stdinPath, 0o600) == 0, mkfifo(stdoutPath, 0o600) == 0 else { throw CocoaError(.fileWriteUnknown) }
        stdinFD = open(stdinPath, O_RDWR | O_CLOEXEC)
        stdoutFD = open(stdoutPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    }

    deinit {
        close(stdinFD)
        close(stdoutFD)
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.write(stdinFD, $0.baseAddress, $0.count) }
    }

    /// Reads stdout until `text` appears (bounded).
    func read(until text: String, timeout: TimeInterval = 15) -> Bool {
        waitUntil(timeout: timeout) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { Foundation.read(stdoutFD, $0.baseAddress, $0.count) }
            if n > 0 { output += String(decoding: buffer[0..<n], as: UTF8.self) }
            return output.contains(text)
        }
    }
}

@Suite("tether-shim OOM events", .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.oom_control"), "needs the cgroup v1 memory controller"))
struct ShimOOMTests {
    @Test("a container over its memory limit: TaskOOM is published, then its exit (137)",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func oomEvent() throws {
        let shim = try ShimHarnessFixture(args: ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"])
        try shim.spawn()
        let created = try shim.call("create", ["--bundle", shim.bundle])
        let pid = (created["pid"] as? Int) ?? 0
        // The runtime does not apply linux.resources.memory yet: the test sets the limit on the container's
        // memory cgroup (v1) itself, between Create and Start.
        let cgroup = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false) }
            .first { $0.count == 3 && $0[1].split(separator: ",").contains("memory") }
        let directory = "/sys/fs/cgroup/memory" + String(cgroup?[2] ?? "")
        try #require(cgroup != nil && directory != "/sys/fs/cgroup/memory/", "no memory cgroup of its own for pid \(pid)")
        try "33554432".write(toFile: directory + "/memory.limit_in_bytes", atomically: false, encoding: .utf8)
        try shim.call("start")
        let wait = try shim.call("wait", ["--timeout", "60"])
        #expect(exitStatus(wait) == 137)
        #expect(shim.event("/tasks/oom") { ($0["container_id"] as? String) == shim.id } != nil, "events: \(shim.events)")
        let topics = shim.events.compactMap { $0["topic"] as? String }
        if let oom = topics.firstIndex(of: "/tasks/oom"), let exit = topics.firstIndex(of: "/tasks/exit") {
            #expect(oom < exit, "\(topics)")
        }
    }
}

@Suite("tether-shim exec")
struct ShimExecTests {
    @Test("exec: output on its FIFO, exit status by Wait and State, TaskExecAdded/Started/Exit",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execRunsInTheContainer() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        let fifos = try FIFOPair(in: shim.directory.path)
        try shim.call("exec", ["--exec-id", "e1", "--stdout", fifos.stdoutPath, "--", "sh", "-c", "hostname; exit 4"])
        let started = try shim.call("start", ["--exec-id", "e1"])
        let pid = started["pid"] as? Int ?? 0
        #expect(pid > 0)
        #expect(fifos.read(until: "tether"), "output: \(fifos.output)")
        let wait = try shim.call("wait", ["--exec-id", "e1", "--timeout", "30"])
        #expect(exitStatus(wait) == 4)
        let state = try shim.call("state", ["--exec-id", "e1"])
        #expect(state["status"] as? String == "STOPPED" && exitStatus(state) == 4)
        #expect(shim.event("/tasks/exec-added") { ($0["exec_id"] as? String) == "e1" } != nil)
        #expect(shim.event("/tasks/exec-started") { ($0["exec_id"] as? String) == "e1" && ($0["pid"] as? Int) == pid } != nil)
        #expect(shim.event("/tasks/exit") { ($0["id"] as? String) == "e1" && exitStatus($0) == 4 } != nil)
        let topics = shim.events.compactMap { $0["topic"] as? String }
        #expect(topics == ["/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started", "/tasks/exit"], "\(topics)")
        try shim.call("delete", ["--exec-id", "e1"])
        #expect(try shim.rpc("state", ["--exec-id", "e1"]).stderr.contains("NOT_FOUND"))
    }

    @Test("many concurrent waiters on the init and on an exec are all answered; no intermediate process remains",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func concurrentWaiters() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 6"])
        let initPid = try shim.createAndStart()
        try shim.call("exec", ["--exec-id", "w", "--", "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 2"])
        let execPid = (try shim.call("start", ["--exec-id", "w"]))["pid"] as? Int ?? 0
        let shimPid = shim.shimPid
        // The runtime's exec intermediate is gone: the shim's children are the init and the exec.
        #expect(waitUntil(timeout: 5) {
            Set(ProcStat.children(of: shimPid).filter { $0.state != "Z" }.map(\.pid)) == [initPid, Int32(execPid)]
        }, "\(ProcStat.children(of: shimPid))")
        var waiters: [(Process, Pipe, String)] = []
        for index in 0..<8 {
            let process = Process()
            let pipe = Pipe()
            process.executableURL = URL(fileURLWithPath: ShimHarnessFixture.harness)
            let execID = index % 2 == 0 ? "" : "w"
            process.arguments = ["wait", "--socket", shim.address, "--id", shim.id, "--exec-id", execID, "--timeout", "60"]
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            waiters.append((process, pipe, execID))
        }
        usleep(300_000)
        #expect(FileManager.default.createFile(atPath: "/proc/\(initPid)/root/tmp/go", contents: nil))
        for (process, pipe, execID) in waiters {
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            // The init exits 6; the exec exits 2, or is killed (137) with what is left of the container when
            // the init sees the file first.
            let status = exitStatus(ShimHarnessFixture.json(output))
            if execID.isEmpty { #expect(status == 6, "\(output)") } else { #expect(status == 2 || status == 137, "\(output)") }
        }
    }

    @Test("exec with a terminal: ResizePty with the exec id sets what stty size shows",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execTerminal() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        let fifos = try FIFOPair(in: shim.directory.path)
        try shim.call("exec", ["--exec-id", "tty", "--terminal", "--stdin", fifos.stdinPath, "--stdout", fifos.stdoutPath, "--", "sh"])
        try shim.call("start", ["--exec-id", "tty"])
        try shim.call("resize", ["--exec-id", "tty", "--width", "91", "--height", "33"])
        fifos.write("stty size; tty\n")
        #expect(fifos.read(until: "33 91"), "output: \(fifos.output)")
        #expect(fifos.read(until: "/dev/pts/"), "output: \(fifos.output)")
        fifos.write("exit 8\n")
        #expect(exitStatus(try shim.call("wait", ["--exec-id", "tty", "--timeout", "30"])) == 8)
        #expect((try shim.call("state"))["status"] as? String == "RUNNING")
    }

    @Test("exec `kill -9 1` inside: the container lives",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execKillNineOfInitIsIgnored() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        let initPid = try shim.createAndStart()
        try shim.call("exec", ["--exec-id", "k", "--", "kill", "-9", "1"])
        try shim.call("start", ["--exec-id", "k"])
        let wait = try shim.call("wait", ["--exec-id", "k", "--timeout", "30"])
        #expect(exitStatus(wait) != nil)
        let state = try shim.call("state")
        #expect(state["status"] as? String == "RUNNING")
        #expect(ProcStat.isAlive(initPid))
    }

    @Test("an exec's exit is published before the init's exit",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execExitBeforeInitExit() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        let initPid = try shim.createAndStart()
        try shim.call("exec", ["--exec-id", "long", "--", "sleep", "1000"])
        try shim.call("start", ["--exec-id", "long"])
        #expect(kill(initPid, SIGKILL) == 0)
        let wait = try shim.call("wait", ["--timeout", "30"])
        #expect(exitStatus(wait) == 137)
        let execWait = try shim.call("wait", ["--exec-id", "long", "--timeout", "30"])
        #expect(exitStatus(execWait) == 137)
        _ = shim.event("/tasks/exit") { ($0["id"] as? String) == shim.id }
        let exits = shim.events.filter { ($0["topic"] as? String) == "/tasks/exit" }
            .compactMap { ($0["event"] as? [String: Any])?["id"] as? String }
        #expect(exits == ["long", shim.id], "\(exits)")
    }

    @Test("300 execs, each deleted: the shim holds no more descriptors than before and no exec record",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execsLeaveNothingBehind() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        let shimPid = shim.shimPid
        func openDescriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(shimPid)/fd"))?.count ?? -1 }
        let before = openDescriptors()
        #expect(before > 0)
        // Half without stdio, half with stdout and stderr on FIFOs (a relay and a FIFO descriptor per exec),
        // a few with a CRI log; every exec is deleted by exec-loop.
        let fifos = try FIFOPair(in: shim.directory.path)
        let log = "cri://\(shim.directory.path)/exec.log"
        let loops: [(String, [String])] = [
            ("plain", []),
            ("fifo", ["--stdout", fifos.stdoutPath, "--stderr", fifos.stdoutPath]),
            ("cri", ["--stdout", log, "--stderr", log]),
        ]
        for (prefix, stdio) in loops {
            let count = prefix == "cri" ? "20" : "140"
            let result = try shim.rpc("exec-loop", ["--exec-id", prefix, "--count", count] + stdio + ["--", "sh", "-c", "echo \(prefix)"],
                                      timeout: 300)
            #expect(result.status == 0, "\(result)")
        }
        #expect(fifos.read(until: "fifo\nfifo\n"), "output: \(fifos.output)")
        #expect((try? String(contentsOfFile: shim.directory.path + "/exec.log", encoding: .utf8))?.contains(" stdout F cri") == true)
        #expect(waitUntil(timeout: 10) { openDescriptors() <= before }, "before: \(before), after: \(openDescriptors())")
        for execID in ["plain-0", "fifo-139", "cri-19"] {
            #expect(try shim.rpc("state", ["--exec-id", execID]).stderr.contains("NOT_FOUND"), "\(execID)")
        }
        #expect((try shim.call("state"))["status"] as? String == "RUNNING")
    }
}

@Suite("tether-shim contract, events and logs")
struct ShimContractTests {
    @Test("start: a 0600 path socket in a 0700 directory; a second start finds the serving shim",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func startContract() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        let address = try shim.spawn()
        #expect(address.hasPrefix("unix:///run/tether/s/"))
        let path = String(address.dropFirst("unix://".count))
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600 && (info.st_mode & S_IFMT) == S_IFSOCK)
        #expect(stat("/run/tether/s", &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(try String(contentsOfFile: shim.bundle + "/address", encoding: .utf8) == address)
        let pid = shim.shimPid
        #expect(try shim.spawn() == address)
        #expect(shim.shimPid == pid)
    }

    @Test("Shutdown keeps the shim while a task is left; after Delete it exits and removes its socket",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func shutdown() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        try shim.createAndStart()
        let pid = shim.shimPid
        let socket = String(shim.address.dropFirst("unix://".count))
        try shim.call("shutdown")
        usleep(300_000)
        #expect(ProcStat.isAlive(pid))
        #expect((try shim.call("state"))["status"] as? String == "RUNNING")
        try shim.call("kill", ["--signal", "SIGKILL"])
        try shim.call("wait", ["--timeout", "30"])
        try shim.call("delete")
        try shim.call("shutdown")
        #expect(waitUntil(timeout: 10) { !ProcStat.isAlive(pid) })
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test("the shim killed: the container keeps running; `tether-shim delete` kills it and prints a DeleteResponse",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func deleteAfterADeadShim() throws {
        let shim = try ShimHarnessFixture(args: ["sleep", "1000"])
        let initPid = try shim.createAndStart()
        let shimPid = shim.shimPid
        #expect(kill(shimPid, SIGKILL) == 0)
        #expect(waitUntil(timeout: 10) { !ProcStat.isAlive(shimPid) })
        #expect(ProcStat.isAlive(initPid))
        let result = try runCommand("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" -namespace \(shim.namespace) -id \(shim.id) -address /x -publish-binary /bin/true delete | od -An -tx1",
                                                "sh", shim.bundle, TestEnvironment.binary("tether-shim")])
        #expect(result.status == 0, "\(result)")
        let bytes = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { UInt8($0, radix: 16) }
        let response = try Containerd_Task_V2_DeleteResponse(serializedBytes: bytes)
        #expect(response.pid == UInt32(initPid))
        #expect(response.exitStatus == 137)
        #expect(response.exitedAt.seconds > 0)
        #expect(waitUntil(timeout: 10) { !ProcStat.isAlive(initPid) })
        #expect(!FileManager.default.fileExists(atPath: "/run/tether/runtime/\(shim.namespace)/\(shim.id)"))
        // The dead shim's socket goes too (containerd's runc shim removes it on delete).
        let address = try String(contentsOfFile: shim.bundle + "/address", encoding: .utf8)
        #expect(!FileManager.default.fileExists(atPath: address.replacingOccurrences(of: "unix://", with: "")))
    }

    @Test("no events server: nothing blocks; events are delivered in order once one appears",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func eventsQueuedUntilAServerAppears() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "exit 3"], eventsServer: false)
        try shim.createAndStart()
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 3)
        try shim.call("delete")
        try shim.startEventsServer()
        _ = shim.event("/tasks/delete", timeout: 30)
        let topics = shim.events.compactMap { $0["topic"] as? String }
        #expect(topics == ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"], "\(topics)")
        for event in shim.events {
            #expect(event["namespace"] as? String == shim.namespace)
            #expect((event["timestamp"] as? Double ?? 0) > 0)
        }
    }

    @Test("rootfs mounts in Create are mounted on <bundle>/rootfs and unmounted by Delete",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func rootfsMount() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "test -x /bin/busybox"]) { config in
            config["root"] = ["path": "rootfs", "readonly": true]
        }
        try FileManager.default.createDirectory(atPath: shim.bundle + "/rootfs", withIntermediateDirectories: true)
        try shim.createAndStart(["--rootfs", TestEnvironment.rootfs])
        #expect(FileManager.default.fileExists(atPath: shim.bundle + "/rootfs/bin/busybox"))
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 0)
        try shim.call("delete")
        #expect(!FileManager.default.fileExists(atPath: shim.bundle + "/rootfs/bin/busybox"))
    }

    @Test("cri:// log: stdout and stderr as CRI records in one file",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func criLog() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "echo out; echo err >&2; printf tail"])
        let log = "cri://\(shim.directory.path)/logs/c.log?max-size=1048576"
        try shim.createAndStart(["--stdout", log, "--stderr", log])
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 0)
        let path = shim.directory.path + "/logs/c.log"
        #expect(waitUntil(timeout: 10) { ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("tail") })
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let tails = Set(lines.map { String($0.split(separator: " ", maxSplits: 1).last ?? "") })
        #expect(tails == ["stdout F out", "stderr F err", "stdout F tail"], "\(lines)")
        #expect(lines.allSatisfy { $0.first?.isNumber == true && $0.split(separator: " ")[0].hasSuffix("Z") })
    }

    @Test("file:// log: the process's stdout is a pipe the shim appends to the file; truncating it fails",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func fileLogIsRelayed() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", """
            readlink /proc/self/fd/1; echo to-err >&2; : > /proc/self/fd/1
            truncate -s 1G /proc/self/fd/1 2>/dev/null || echo truncate-failed; echo x > /proc/self/fd/1
            """])
        let path = shim.directory.path + "/logs/c.log"
        try shim.createAndStart(["--stdout", "file://" + path, "--stderr", "file://" + path])
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.first?.hasPrefix("pipe:[") == true, "\(text)")
        // stdout and stderr are two pipes: their lines keep their own order, not one across the two.
        let rest = Array(lines.dropFirst())
        #expect(rest.sorted() == ["to-err", "truncate-failed", "x"], "\(text)")
        #expect(rest.filter { $0 != "to-err" } == ["truncate-failed", "x"], "\(text)")
    }

    @Test("file:// log that cannot be written (/dev/full: ENOSPC): the bytes are dropped, the process runs to its end",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func fileLogWriteErrorsNeverStopTheProcess() throws {
        // 1.3 MB to a log that fails every write (more than the 1 MiB pipe holds), then a line to a good log.
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "seq 1 200000; echo after >&2; exit 7"])
        let good = shim.directory.path + "/stderr.log"
        try shim.createAndStart(["--stdout", "file:///dev/full", "--stderr", "file://" + good])
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 7)
        #expect(try String(contentsOfFile: good, encoding: .utf8) == "after\n")
        #expect((try shim.call("state"))["status"] as? String == "STOPPED")
    }

    @Test("file:// log with max-size and max-files: rotated at line ends, at most max-files files",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func fileLogRotation() throws {
        let shim = try ShimHarnessFixture(args: ["seq", "1", "100000"])
        let path = shim.directory.path + "/c.log"
        try shim.createAndStart(["--stdout", "file://\(path)?max-size=65536&max-files=2"])
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 0)
        #expect(!FileManager.default.fileExists(atPath: path + ".2"))
        let older = try String(contentsOfFile: path + ".1", encoding: .utf8)
        let newer = try String(contentsOfFile: path, encoding: .utf8)
        // A file passes max-size at most by the rest of the line a read ended inside (at most "100000\n").
        #expect(older.utf8.count <= 65536 + 7 && newer.utf8.count <= 65536 + 7)
        let numbers = (older + newer).split(separator: "\n").compactMap { Int($0) }
        #expect(older.hasSuffix("\n") && numbers.last == 100000, "\(numbers.suffix(3))")
        #expect(numbers == Array((numbers.first ?? 0)...100000), "the lines are not consecutive")
        let refused = try ShimHarnessFixture(args: ["true"])
        try refused.spawn()
        let bad = try refused.rpc("create", ["--bundle", refused.bundle, "--stdout", "file://\(path)?max-size=ten"])
        #expect(bad.status != 0 && bad.stderr.contains("max-size"), "\(bad)")
    }

    @Test("binary:// logger: run with fds 3/4/5 and CONTAINER_ID as containerd does",
          .enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func binaryLogger() throws {
        let shim = try ShimHarnessFixture(args: ["sh", "-c", "echo to-out; echo to-err >&2"])
        let logger = shim.directory.path + "/logger.sh"
        try """
        #!/bin/sh
        dir=$(dirname "$0")
        echo $$ > "$dir/logger.pid"
        echo "$CONTAINER_ID $CONTAINER_NAMESPACE $*" > "$dir/logger.env"
        exec 5>&-
        cat <&3 > "$dir/logger.out" &
        cat <&4 > "$dir/logger.err" &
        exec 3<&- 4<&-
        wait
        """.write(toFile: logger, atomically: true, encoding: .utf8)
        chmod(logger, 0o755)
        let uri = "binary://\(logger)?mode=test"
        try shim.createAndStart(["--stdout", uri, "--stderr", uri])
        #expect(exitStatus(try shim.call("wait", ["--timeout", "30"])) == 0)
        let dir = shim.directory.path
        #expect(waitUntil(timeout: 10) {
            ((try? String(contentsOfFile: dir + "/logger.err", encoding: .utf8)) ?? "") == "to-err\n"
        })
        #expect(try String(contentsOfFile: dir + "/logger.out", encoding: .utf8) == "to-out\n")
        #expect(try String(contentsOfFile: dir + "/logger.env", encoding: .utf8) == "\(shim.id) \(shim.namespace) mode test\n")
        // The logger ends at the streams' end (it runs with an empty signal mask: its shell's `wait` works).
        let loggerPid = Int32(try String(contentsOfFile: dir + "/logger.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(loggerPid > 0 && waitUntil(timeout: 10) { !ProcStat.isAlive(loggerPid) })
    }
}
