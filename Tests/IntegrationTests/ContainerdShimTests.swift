import Foundation
import Testing

/// Issue 6: a real Debian containerd 1.6 drives tether-shim as its runtime (`--runtime /abs/path`), with no
/// image: `ctr run --rootfs DIR`. Every flag goes before --rootfs, and commands need absolute paths.
@Suite("containerd drives tether-shim", .serialized)
struct ContainerdShimTests {
    static var canRun: Bool { TestEnvironment.canRunContainers && PrivateContainerd.isInstalled }
    static var shim: String { TestEnvironment.binary("tether-shim") }

    @Test(.enabled(if: canRun, "needs root, the busybox rootfs and Debian's containerd"))
    func runPrintsOutputAndReturnsTheExitCode() throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let id = uniqueID("c")
        let result = try containerd.ctr(["run", "--runtime", Self.shim, "--rm", "--rootfs", TestEnvironment.rootfs, id,
                                         "/bin/sh", "-c", "echo hi; exit 3"], timeout: 60)
        #expect(result.stdout == "hi\n", "\(result)")
        #expect(result.status == 3, "\(result)")
    }

    /// Issue 14: `ctr run --privileged` lists every host device, /dev/ptmx included, in linux.devices: the container
    /// runs and /dev/ptmx is still the pts/ptmx link, through tether-shim, through containerd-shim-runc-v2 driving
    /// tether-runtime, and through containerd-shim-runc-v2 with runc.
    @Test(.enabled(if: canRun, "needs root, the busybox rootfs and Debian's containerd"),
          arguments: ["tether-shim", "runc.v2 + tether-runtime", "runc.v2 + runc"])
    func aPrivilegedContainerRuns(runtime: String) throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let id = uniqueID("p")
        let selection = switch runtime {
        case "tether-shim": ["--runtime", Self.shim]
        case "runc.v2 + tether-runtime": ["--runc-binary", RuntimeTests.runtime]
        default: [String]()
        }
        let result = try containerd.ctr(["run"] + selection + ["--privileged", "--rm", "--rootfs", TestEnvironment.rootfs, id,
                                         "/bin/sh", "-c", "readlink /dev/ptmx; test -c /dev/kmsg && echo kmsg"], timeout: 60)
        #expect(result.status == 0, "\(runtime): \(result)")
        #expect(result.stdout == "pts/ptmx\nkmsg\n", "\(runtime): \(result)")
    }

    @Test(.enabled(if: canRun, "needs root, the busybox rootfs and Debian's containerd"))
    func detachedTaskLifecycleAndEvents() throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let events = EventsRecorder(containerd)
        defer { events.stop() }
        let id = uniqueID("d")
        let run = try containerd.ctr(["run", "-d", "--runtime", Self.shim, "--rootfs", TestEnvironment.rootfs, id,
                                      "/bin/sleep", "1000"])
        #expect(run.status == 0, "\(run)")
        let list = try containerd.ctr(["task", "ls"])
        #expect(list.stdout.contains(id) && list.stdout.contains("RUNNING"), "\(list)")
        let ps = try containerd.ctr(["task", "ps", id])
        #expect(ps.status == 0 && ps.stdout.split(separator: "\n").count >= 2, "\(ps)")
        let exec = try containerd.ctr(["task", "exec", "--exec-id", "e1", id, "/bin/sh", "-c", "echo in $(hostname); exit 4"])
        #expect(exec.stdout.hasPrefix("in "), "\(exec)")
        #expect(exec.status == 4, "\(exec)")
        #expect(try containerd.ctr(["task", "pause", id]).status == 0)
        let paused = try containerd.ctr(["task", "ls"])
        #expect(paused.stdout.contains("PAUSED"), "\(paused)")
        #expect(try containerd.ctr(["task", "resume", id]).status == 0)
        let resumed = try containerd.ctr(["task", "ls"])
        #expect(resumed.stdout.contains("RUNNING"), "\(resumed)")
        let kill = try containerd.ctr(["task", "kill", "-s", "SIGKILL", id])
        #expect(kill.status == 0, "\(kill)")
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = (try? containerd.ctr(["task", "ls"]).stdout.contains("STOPPED")) ?? false
            if !stopped { usleep(50_000) }
        }
        #expect(stopped)
        let delete = try containerd.ctr(["task", "delete", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(try containerd.ctr(["container", "rm", id]).status == 0)
        let topics = events.topics(waitingFor: "/tasks/delete")
        for topic in ["/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started", "/tasks/paused", "/tasks/resumed",
                      "/tasks/exit", "/tasks/delete"] {
            #expect(topics.contains(topic), "missing \(topic) in \(topics)")
        }
        if let start = topics.firstIndex(of: "/tasks/start"), let exit = topics.firstIndex(of: "/tasks/exit") {
            #expect(start < exit)
        }
    }

    @Test(.enabled(if: canRun, "needs root, the busybox rootfs and Debian's containerd"))
    func shimAndContainerSurviveAContainerdCrash() throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let id = uniqueID("r")
        let run = try containerd.ctr(["run", "-d", "--runtime", Self.shim, "--rootfs", TestEnvironment.rootfs, id,
                                      "/bin/sh", "-c", "sleep 2; exit 5"])
        #expect(run.status == 0, "\(run)")
        let before = try containerd.ctr(["task", "ls"])
        let pid = before.stdout.split(separator: "\n").first(where: { $0.hasPrefix(id) })?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int32($0) }
        #expect(pid != nil, "\(before)")
        containerd.kill9()
        // The container lives on without containerd; it exits (code 5) while containerd is down.
        if let pid { #expect(processIsAlive(pid)) }
        sleep(3)
        try containerd.start()
        var listed = ""
        for _ in 0..<100 {
            listed = (try? containerd.ctr(["task", "ls"]).stdout) ?? ""
            if listed.contains(id) { break }
            usleep(50_000)
        }
        #expect(listed.contains(id) && listed.contains("STOPPED"), "\(listed)")
        let delete = try containerd.ctr(["task", "delete", id])
        #expect(delete.status == 0, "\(delete)")
        #expect((delete.stdout + delete.stderr).contains("exit code 5"), "\(delete)")
    }
}

/// Records `ctr events` output in the background.
final class EventsRecorder: @unchecked Sendable {
    private let process = Process()
    private let pipe = Pipe()
    private let lock = NSLock()
    private var text = ""

    init(_ containerd: PrivateContainerd) {
        process.executableURL = URL(fileURLWithPath: PrivateContainerd.ctrBinary)
        process.arguments = ["--address", containerd.address, "--namespace", containerd.namespace, "events"]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.text += String(decoding: data, as: UTF8.self)
            self.lock.unlock()
        }
        try? process.run()
        usleep(200_000)
    }

    func topics(waitingFor last: String) -> [String] {
        for _ in 0..<100 {
            lock.lock()
            let current = text
            lock.unlock()
            if current.contains(last) { break }
            usleep(50_000)
        }
        lock.lock()
        defer { lock.unlock() }
        return text.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first(where: { $0.hasPrefix("/") }).map(String.init)
        }
    }

    func stop() {
        pipe.fileHandleForReading.readabilityHandler = nil
        if process.isRunning { process.terminate() }
    }
}

/// A live, non-zombie process (PID 1 here does not reap, so kill -0 is not enough).
func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
