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

    /// Issue 18: the shim logs to the `log` FIFO containerd made in the bundle (its stderr), and containerd copies each
    /// line into its own log: the init's exit and the task's deletion, once each, in logfmt with the container's id.
    @Test(.enabled(if: canRun, "needs root, the busybox rootfs and Debian's containerd"))
    func theShimLogsThroughContainerdsLogFIFO() throws {
        let containerd = try PrivateContainerd()
        defer { containerd.stop() }
        let id = uniqueID("log")
        let result = try containerd.ctr(["run", "--runtime", Self.shim, "--rm", "--rootfs", TestEnvironment.rootfs, id,
                                         "/bin/sh", "-c", "exit 7"], timeout: 60)
        #expect(result.status == 7, "\(result)")
        func lines(_ message: String) -> [Substring] {
            containerd.logText.split(separator: "\n").filter { $0.contains("msg=\"\(message)\"") && $0.contains(" id=\(id)") }
        }
        // containerd copies the FIFO on a goroutine of its own: the lines may follow ctr's exit.
        for _ in 0..<250 where lines("task deleted").isEmpty { usleep(20_000) }
        let exited = lines("container init exited")
        #expect(exited.count == 1, "\(containerd.logText)")
        #expect(exited.first?.contains("level=info") == true && exited.first?.contains("status=7") == true, "\(exited)")
        #expect(lines("task deleted").count == 1, "\(containerd.logText)")
        #expect(exited.first?.hasPrefix("time=\"") == true, "\(exited)")
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

    /// Issue 14 item 8 through the shim: a bind mount's propagation option as containerd's CRI sets it for
    /// Kubernetes' mountPropagation (`rprivate` for None; `rslave` with rootfs propagation rslave for HostToContainer;
    /// `rshared` with rootfs propagation rshared for Bidirectional), given to `ctr run --mount ... --rootfs-propagation`.
    /// A mount made on the host under an rslave or rshared source appears in the container; for rshared a mount made
    /// in the container appears on the host; rprivate neither. Without rootfs propagation, `/` is rslave in the
    /// container, so an rshared bind is shared and slave: host mounts come in, container mounts do not go out.
    /// Through tether-shim, containerd-shim-runc-v2 driving tether-runtime, and containerd-shim-runc-v2 with runc.
    /// containerd (and its shims and containers) runs in a private mount namespace, whose "host" mounts are made
    /// with nsenter: the source is a directory bound onto itself and made shared there.
    @Test(.enabled(if: canRun && TestEnvironment.hasCommand(PrivateContainerd.unshare)
                       && TestEnvironment.hasCommand(PrivateContainerd.nsenter),
                   "needs root, the busybox rootfs, Debian's containerd, unshare and nsenter"),
          arguments: ["tether-shim", "runc.v2 + tether-runtime", "runc.v2 + runc"].flatMap { runtime in
              [("rprivate", "", false, false), ("rslave", "rslave", true, false), ("rshared", "rshared", true, true),
               ("rshared", "", true, false)].map { (runtime, $0.0, $0.1, $0.2, $0.3) }
          })
    func bindMountPropagation(runtime: String, propagation: String, rootfsPropagation: String,
                              hostToContainer: Bool, containerToHost: Bool) throws {
        let label = "\(runtime) \(propagation) rootfs-propagation '\(rootfsPropagation)'"
        let containerd = try PrivateContainerd(privateMountNamespace: true)
        defer { containerd.stop() }
        let source = containerd.directory.path + "/source"
        for sub in ["hostmnt", "cmnt"] {
            try FileManager.default.createDirectory(atPath: source + "/" + sub, withIntermediateDirectories: true)
        }
        let shared = try containerd.hostShell("mount --bind '\(source)' '\(source)' && mount --make-shared '\(source)'")
        #expect(shared.status == 0, "\(shared)")
        defer { _ = try? containerd.hostShell("umount -R '\(source)'") }
        let id = uniqueID("m")
        let selection = switch runtime {
        case "tether-shim": ["--runtime", Self.shim]
        case "runc.v2 + tether-runtime": ["--runc-binary", RuntimeTests.runtime]
        default: [String]()
        }
        let rootfs = rootfsPropagation.isEmpty ? [] : ["--rootfs-propagation", rootfsPropagation]
        let run = try containerd.ctr(["run", "-d"] + selection + rootfs + [
            "--cap-add", "CAP_SYS_ADMIN", "--mount", "type=bind,src=\(source),dst=/tmp/s,options=rbind:\(propagation)",
            "--rootfs", TestEnvironment.rootfs, id, "/bin/sleep", "1000"])
        #expect(run.status == 0, "\(label): \(run)")
        defer {
            _ = try? containerd.ctr(["task", "kill", "-s", "SIGKILL", id])
            _ = try? containerd.ctr(["task", "delete", "-f", id])
            _ = try? containerd.ctr(["container", "rm", id])
        }
        // A mount on the host under the source after the container was made, then one in the container.
        let hostMount = try containerd.hostShell("mount -t tmpfs tmpfs '\(source)/hostmnt' && touch '\(source)/hostmnt/host-file'")
        #expect(hostMount.status == 0, "\(hostMount)")
        let inside = try containerd.ctr(["task", "exec", "--exec-id", "probe", id, "/bin/sh", "-c",
            "test -e /tmp/s/hostmnt/host-file && echo host-mount-seen; mount -t tmpfs tmpfs /tmp/s/cmnt && touch /tmp/s/cmnt/c-file"])
        #expect(inside.status == 0, "\(label): \(inside)")
        #expect(inside.stdout.contains("host-mount-seen") == hostToContainer, "\(label): \(inside)")
        let back = try containerd.hostShell("test -e '\(source)/cmnt/c-file' && echo container-mount-seen || true")
        #expect(back.stdout.contains("container-mount-seen") == containerToHost, "\(label): \(back)")
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
        // containerd decodes the shim's Stats (io.containerd.cgroups.v1 or v2 Metrics) and prints its table.
        let metrics = try containerd.ctr(["task", "metrics", id])
        #expect(metrics.status == 0, "\(metrics)")
        let pids = metrics.stdout.split(separator: "\n").first { $0.hasPrefix("pids.current") }?
            .split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) }
        #expect((pids ?? 0) >= 1, "\(metrics)")
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
