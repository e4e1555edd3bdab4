import Foundation
import TetherTestSupport
import Testing

/// Issue 16: Kubernetes' path. A private containerd 1.6 with its CRI plugin runs pods through the runtime handler
/// `tether` (tether-shim as containerd-shim-tether-v2) and, as the reference in the same test, `runc`
/// (containerd-shim-runc-v2 with runc), called over the CRI's gRPC by scripts/cri/cri-client.py, images pulled from a
/// local docker-registry. Pods use the host network. See Documentation/Kubernetes.md.
@Suite("CRI: containerd's CRI plugin drives tether-shim", .serialized, .timeLimit(.minutes(5)))
struct CRITests {
    static let skip = CRIFixture.missing ?? ""

    /// Both containers of a pod share the pod's one shim (tether-shim groups by the sandbox id; it is single-threaded),
    /// and removing the pod leaves no shim, no mount under containerd's directories and no cgroup.
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func aPodWithTwoContainersHasOneShimAndRemovalLeavesNothing(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("two", handler: handler)
        let first = try node.runContainer(pod: pod, name: "first", command: ["/bin/sleep", "1000"])
        let second = try node.runContainer(pod: pod, name: "second", command: ["/bin/sleep", "1000"])
        let shims = node.shimProcesses(pod: pod.id)
        #expect(shims.count == 1, "\(handler): shims for the pod: \(shims)")
        if handler == "tether", let shim = shims.first {
            #expect(CRIFixture.threads(shim) == 1, "tether-shim \(shim) threads")
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(shim)/exe")) ?? ""
            #expect(executable.hasSuffix("/tether-shim"), "shim executable \(executable)")
        }
        for id in [first, second] {
            #expect(try node.containerStatus(id)["state"] as? String == "CONTAINER_RUNNING", "\(handler) \(id)")
            #expect(FileManager.default.fileExists(atPath: node.cgroup("memory", container: id)), "\(handler) cgroup of \(id)")
        }
        let listed = try node.call("ListContainers", ["filter": ["pod_sandbox_id": pod.id]])["containers"] as? [[String: Any]] ?? []
        #expect(Set(listed.compactMap { $0["id"] as? String }) == [first, second], "\(handler): \(listed)")
        #expect(!node.mountsUnderContainerd().isEmpty, "\(handler): rootfs mounts while running")

        try node.removePod(pod.id)
        var left = node.shimProcesses(pod: pod.id)
        for _ in 0..<50 where !left.isEmpty {
            usleep(100_000)
            left = node.shimProcesses(pod: pod.id)
        }
        #expect(left.isEmpty, "\(handler): shims left: \(left)")
        #expect(node.mountsUnderContainerd().isEmpty, "\(handler): mounts left: \(node.mountsUnderContainerd())")
        #expect(node.cgroupsUnderParent().isEmpty, "\(handler): cgroups left: \(node.cgroupsUnderParent())")
        if handler == "tether" {
            // tether-shim keeps its runtime state in /run/tether/runtime/<namespace>/<id>.
            for id in [pod.id, first, second] {
                #expect(!FileManager.default.fileExists(atPath: "/run/tether/runtime/k8s.io/" + id), "runtime state of \(id) left")
            }
        }
        let pods = try node.call("ListPodSandbox")["items"] as? [[String: Any]] ?? []
        #expect(pods.isEmpty, "\(handler): \(pods)")
    }

    /// The container's output is in the CRI log format (`<RFC3339Nano> stdout|stderr F|P <line>`) at the path the
    /// kubelet gave (log_directory/log_path); after the kubelet renames it, ReopenContainerLog starts a new file.
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func logsAreInTheCRIFormatAndReopen(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("logs", handler: handler)
        let id = try node.runContainer(pod: pod, name: "talker", command: ["/bin/sh", "-c",
            "echo out-line; echo err-line >&2; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo after-reopen; sleep 1000"])
        let path = node.logPath(pod: "logs", container: "talker")
        let before = waitForFile(path, containing: "err-line")
        let lines = before.split(separator: "\n")
        #expect(lines.count == 2, "\(handler): \(before)")
        let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (stdout|stderr) F (.*)$/#
        let parsed = lines.compactMap { try? pattern.wholeMatch(in: String($0)) }.map { "\($0.output.3) \($0.output.4)" }
        #expect(Set(parsed) == ["stdout out-line", "stderr err-line"], "\(handler): \(before)")
        #expect(try node.containerStatus(id)["log_path"] as? String == path)

        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try node.call("ReopenContainerLog", ["container_id": id])
        try node.call("ExecSync", ["container_id": id, "cmd": ["/bin/touch", "/tmp/go"], "timeout": 10])
        let after = waitForFile(path, containing: "after-reopen")
        #expect(after.contains("stdout F after-reopen"), "\(handler): \(after)")
        let rotated = (try? String(contentsOfFile: path + ".1", encoding: .utf8)) ?? ""
        #expect(!rotated.contains("after-reopen"), "\(handler): \(rotated)")
    }

    /// ExecSync returns stdout, stderr and the exit code; with a timeout, a command that runs longer fails with
    /// DEADLINE_EXCEEDED and is killed.
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func execSyncOutputExitCodeAndTimeout(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("exec", handler: handler)
        let id = try node.runContainer(pod: pod, name: "box", command: ["/bin/sleep", "1000"])
        let answer = try node.call("ExecSync", ["container_id": id, "cmd": ["/bin/sh", "-c", "echo out; echo err >&2; exit 7"],
                                                "timeout": 10])
        #expect(protoText(answer["stdout"]) == "out\n", "\(handler): \(answer)")
        #expect(protoText(answer["stderr"]) == "err\n", "\(handler): \(answer)")
        #expect(protoInt(answer["exit_code"]) == 7, "\(handler): \(answer)")
        let started = Date()
        #expect {
            try node.call("ExecSync", ["container_id": id, "cmd": ["/bin/sh", "-c", "echo started; exec sleep 30"], "timeout": 1])
        } throws: { error in
            (error as? CRIFixture.CallError)?.code == "DEADLINE_EXCEEDED"
        }
        #expect(Date().timeIntervalSince(started) < 15, "\(handler): the timed-out exec took \(Date().timeIntervalSince(started)) s")
        let ps = try node.call("ExecSync", ["container_id": id, "cmd": ["/bin/ps", "-o", "args"], "timeout": 10])
        #expect(!protoText(ps["stdout"]).contains("sleep 30"), "\(handler): the timed-out exec still runs: \(protoText(ps["stdout"]))")
        let url = try node.call("Exec", ["container_id": id, "cmd": ["/bin/true"], "stdout": true])["url"] as? String ?? ""
        #expect(url.hasPrefix("http://127.0.0.1:"), "\(handler): Exec streaming URL \(url)")
    }

    /// ContainerStats has real CPU and memory numbers, and UpdateContainerResources lands in the container's cgroup
    /// (v1 here: memory.limit_in_bytes, cpu.cfs_quota_us / cpu.cfs_period_us, cpu.shares).
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func statsAreRealAndUpdateLandsInTheCgroup(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("stats", handler: handler)
        // Busy for a moment (CPU), then 8 MB written to the pod's /dev/shm (tmpfs pages, charged to the container).
        let id = try node.runContainer(pod: pod, name: "busy", command: ["/bin/sh", "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; head -c 8000000 /dev/zero > /dev/shm/fill; echo ready; sleep 1000"])
        _ = waitForFile(node.logPath(pod: "stats", container: "busy"), containing: "ready", timeout: 60)
        let stats = try node.call("ContainerStats", ["container_id": id])["stats"] as? [String: Any] ?? [:]
        let cpu = stats["cpu"] as? [String: Any] ?? [:]
        let memory = stats["memory"] as? [String: Any] ?? [:]
        let cpuNanos = protoInt((cpu["usage_core_nano_seconds"] as? [String: Any])?["value"]) ?? 0
        let workingSet = protoInt((memory["working_set_bytes"] as? [String: Any])?["value"]) ?? 0
        let cgroupCPU = Int64((try? String(contentsOfFile: node.cgroup("cpuacct", container: id) + "/cpuacct.usage", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        #expect(cpuNanos > 10_000_000, "\(handler): cpu \(cpu)")
        #expect(cpuNanos <= cgroupCPU, "\(handler): cpu \(cpuNanos) vs cgroup's \(cgroupCPU)")
        #expect(workingSet > 8_000_000, "\(handler): memory \(memory)")
        #expect((protoInt(cpu["timestamp"]) ?? 0) > 0 && (protoInt(memory["timestamp"]) ?? 0) > 0, "\(handler): \(stats)")

        try node.call("UpdateContainerResources", ["container_id": id, "linux": [
            "memory_limit_in_bytes": "100663296", "cpu_period": "100000", "cpu_quota": "50000", "cpu_shares": "512"]])
        func read(_ controller: String, _ file: String) -> String {
            ((try? String(contentsOfFile: node.cgroup(controller, container: id) + "/" + file, encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(read("memory", "memory.limit_in_bytes") == "100663296", "\(handler)")
        #expect(read("cpu", "cpu.cfs_quota_us") == "50000", "\(handler)")
        #expect(read("cpu", "cpu.cfs_period_us") == "100000", "\(handler)")
        #expect(read("cpu", "cpu.shares") == "512", "\(handler)")
        let status = try node.call("ContainerStatus", ["container_id": id])["status"] as? [String: Any] ?? [:]
        let resources = (status["resources"] as? [String: Any])?["linux"] as? [String: Any] ?? [:]
        #expect(protoInt(resources["memory_limit_in_bytes"]) == 100_663_296, "\(handler): \(resources)")
    }

    /// A container that outgrows its memory limit is OOM-killed: EXITED, exit code 137, reason OOMKilled.
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func anOOMKilledContainerReportsOOMKilled(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("oom", handler: handler)
        let limit = "33554432"
        let id = try node.runContainer(pod: pod, name: "hog", command: ["/bin/sh", "-c", "sleep 0.5; tail /dev/zero"],
                                       linux: ["resources": ["memory_limit_in_bytes": limit, "memory_swap_limit_in_bytes": limit]])
        let status = try node.waitForExit(id, timeout: 60)
        #expect(status["state"] as? String == "CONTAINER_EXITED", "\(handler): \(status)")
        #expect(status["reason"] as? String == "OOMKilled", "\(handler): \(status)")
        #expect(protoInt(status["exit_code"]) == 137, "\(handler): \(status)")
    }

    /// A privileged container in a privileged pod: every host device, /dev/ptmx still the pts/ptmx link (issue 14),
    /// all capabilities (the host's bounding set), /sys writable.
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func aPrivilegedContainerRuns(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("priv", handler: handler, privileged: true)
        let id = try node.runContainer(pod: pod, name: "root", command: ["/bin/sleep", "1000"],
                                       linux: ["security_context": ["privileged": true]])
        #expect(try node.containerStatus(id)["state"] as? String == "CONTAINER_RUNNING", "\(handler)")
        let answer = try node.call("ExecSync", ["container_id": id, "timeout": 10, "cmd": ["/bin/sh", "-c",
            "readlink /dev/ptmx; test -c /dev/kmsg && echo kmsg; grep CapEff /proc/self/status; grep ' /sys ' /proc/mounts | grep -c rw,"]])
        #expect(protoInt(answer["exit_code"]) == 0, "\(handler): \(answer)")
        // All capabilities: every one in the host's bounding set (this machine's lacks CAP_SYS_RESOURCE).
        let hostStatus = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let bounding = hostStatus.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }?.split(separator: "\t").last ?? "?"
        #expect(protoText(answer["stdout"]) == "pts/ptmx\nkmsg\nCapEff:\t\(bounding)\n1\n",
                "\(handler): \(protoText(answer["stdout"])) \(protoText(answer["stderr"]))")
    }

    /// mountPropagation: Bidirectional (CRI PROPAGATION_BIDIRECTIONAL, which containerd turns into an rshared bind
    /// and an rshared rootfs): a mount made on the host under the source shows in the container, and one made in
    /// the container shows on the host. containerd runs in a mount namespace of its own, its "host" there.
    @Test(.enabled(if: CRIFixture.canRun && TestEnvironment.hasCommand(PrivateContainerd.nsenter), "\(skip) (and nsenter)"),
          arguments: CRIFixture.handlers)
    func aBidirectionalMountPropagatesBothWays(handler: String) throws {
        let node = try CRIFixture(privateMountNamespace: true)
        defer { node.stop() }
        let source = node.work.path + "/shared"
        for sub in ["hostmnt", "cmnt"] {
            try FileManager.default.createDirectory(atPath: source + "/" + sub, withIntermediateDirectories: true)
        }
        let shared = try node.containerd.hostShell("mount --bind '\(source)' '\(source)' && mount --make-shared '\(source)'")
        #expect(shared.status == 0, "\(shared)")
        defer { _ = try? node.containerd.hostShell("umount -R '\(source)'") }
        let pod = try node.runPod("prop", handler: handler, privileged: true)
        let id = try node.runContainer(pod: pod, name: "mounter", command: ["/bin/sleep", "1000"],
                                       linux: ["security_context": ["privileged": true]],
                                       mounts: [["container_path": "/mnt/s", "host_path": source, "propagation": "PROPAGATION_BIDIRECTIONAL"]])
        let hostMount = try node.containerd.hostShell("mount -t tmpfs tmpfs '\(source)/hostmnt' && touch '\(source)/hostmnt/host-file'")
        #expect(hostMount.status == 0, "\(hostMount)")
        defer { _ = try? node.containerd.hostShell("umount '\(source)/hostmnt' '\(source)/cmnt'") }
        let inside = try node.call("ExecSync", ["container_id": id, "timeout": 10, "cmd": ["/bin/sh", "-c",
            "test -e /mnt/s/hostmnt/host-file && echo host-mount-seen; mount -t tmpfs tmpfs /mnt/s/cmnt && touch /mnt/s/cmnt/c-file"]])
        #expect(protoInt(inside["exit_code"]) == 0, "\(handler): \(inside) \(protoText(inside["stderr"]))")
        #expect(protoText(inside["stdout"]).contains("host-mount-seen"), "\(handler): \(protoText(inside["stdout"]))")
        let back = try node.containerd.hostShell("test -e '\(source)/cmnt/c-file' && echo container-mount-seen || true")
        #expect(back.stdout.contains("container-mount-seen"), "\(handler): \(back)")
    }

    /// StopContainer with a grace period: SIGTERM first (a container that handles it exits with its own code at
    /// once), then SIGKILL when the period ends (a container that ignores SIGTERM: exit code 137, after the period).
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func stopSendsSIGTERMThenSIGKILLAfterTheGracePeriod(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("stop", handler: handler)
        let polite = try node.runContainer(pod: pod, name: "polite", command: ["/bin/sh", "-c",
            "trap 'echo got-TERM; exit 3' TERM; echo up; while :; do sleep 0.1; done"])
        let stubborn = try node.runContainer(pod: pod, name: "stubborn", command: ["/bin/sh", "-c",
            "trap '' TERM; echo up; while :; do sleep 0.1; done"])
        _ = waitForFile(node.logPath(pod: "stop", container: "polite"), containing: "up")
        _ = waitForFile(node.logPath(pod: "stop", container: "stubborn"), containing: "up")
        var started = Date()
        try node.call("StopContainer", ["container_id": polite, "timeout": 30])
        let politeTime = Date().timeIntervalSince(started)
        let politeStatus = try node.containerStatus(polite)
        #expect(politeTime < 10, "\(handler): the SIGTERM-handling container took \(politeTime) s to stop")
        #expect(politeStatus["state"] as? String == "CONTAINER_EXITED" && protoInt(politeStatus["exit_code"]) == 3,
                "\(handler): \(politeStatus)")
        #expect(waitForFile(node.logPath(pod: "stop", container: "polite"), containing: "got-TERM").contains("got-TERM"))

        started = Date()
        try node.call("StopContainer", ["container_id": stubborn, "timeout": 2])
        let stubbornTime = Date().timeIntervalSince(started)
        let stubbornStatus = try node.containerStatus(stubborn)
        #expect(stubbornTime >= 1.9 && stubbornTime < 15, "\(handler): StopContainer with a 2 s grace period took \(stubbornTime) s")
        #expect(stubbornStatus["state"] as? String == "CONTAINER_EXITED" && protoInt(stubbornStatus["exit_code"]) == 137,
                "\(handler): \(stubbornStatus)")
    }

    /// kill -9 of containerd with pods running: the shims and containers live on; a container that exits meanwhile
    /// has its exit reported after containerd restarts, and every pod and container is listed with its state.
    @Test(.enabled(if: CRIFixture.canRun, "\(skip)"), arguments: CRIFixture.handlers)
    func containerdKilledAndRestartedFindsEveryPodAndExit(handler: String) throws {
        let node = try CRIFixture()
        defer { node.stop() }
        let pod = try node.runPod("crash", handler: handler)
        let runner = try node.runContainer(pod: pod, name: "runner", command: ["/bin/sleep", "1000"])
        let quitter = try node.runContainer(pod: pod, name: "quitter", command: ["/bin/sh", "-c",
            "while [ ! -e /tmp/quit ]; do sleep 0.1; done; sleep 1; exit 5"])
        let created = try node.runContainer(pod: pod, name: "created", command: ["/bin/sleep", "1000"], start: false)
        let shims = node.shimProcesses(pod: pod.id)
        #expect(shims.count == 1, "\(handler): \(shims)")
        try node.call("ExecSync", ["container_id": quitter, "cmd": ["/bin/touch", "/tmp/quit"], "timeout": 10])
        node.containerd.kill9()
        sleep(2)  // the quitter exits while containerd is down
        for shim in shims { #expect(processIsAlive(shim), "\(handler): shim \(shim) died with containerd") }
        try node.containerd.start()

        var states: [String: String] = [:]
        for _ in 0..<100 {
            let listed = (try? node.call("ListContainers")["containers"] as? [[String: Any]]) ?? []
            states = Dictionary(listed.compactMap { item in (item["id"] as? String).map { ($0, item["state"] as? String ?? "") } },
                                uniquingKeysWith: { first, _ in first })
            if states[quitter] == "CONTAINER_EXITED" { break }
            usleep(100_000)
        }
        #expect(states == [runner: "CONTAINER_RUNNING", quitter: "CONTAINER_EXITED", created: "CONTAINER_CREATED"], "\(handler): \(states)")
        #expect(protoInt(try node.containerStatus(quitter)["exit_code"]) == 5, "\(handler)")
        let sandbox = try node.call("PodSandboxStatus", ["pod_sandbox_id": pod.id])["status"] as? [String: Any] ?? [:]
        #expect(sandbox["state"] as? String == "SANDBOX_READY", "\(handler): \(sandbox)")
        // Still driven after the restart: exec into the runner, stop it, then remove everything.
        let exec = try node.call("ExecSync", ["container_id": runner, "cmd": ["/bin/echo", "still-here"], "timeout": 10])
        #expect(protoText(exec["stdout"]) == "still-here\n", "\(handler): \(exec)")
        try node.call("StopContainer", ["container_id": runner, "timeout": 1])
        #expect(try node.containerStatus(runner)["state"] as? String == "CONTAINER_EXITED", "\(handler)")
        try node.removePod(pod.id)
        var left = node.shimProcesses(pod: pod.id)
        for _ in 0..<50 where !left.isEmpty {
            usleep(100_000)
            left = node.shimProcesses(pod: pod.id)
        }
        #expect(left.isEmpty, "\(handler): shims left after removal: \(left)")
        #expect(node.cgroupsUnderParent().isEmpty, "\(handler): cgroups left: \(node.cgroupsUnderParent())")
    }
}

/// Waits until the file at `path` contains `text` (or `timeout` passes) and returns its content.
func waitForFile(_ path: String, containing text: String, timeout: TimeInterval = 20) -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var content = ""
    repeat {
        content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if content.contains(text) { return content }
        usleep(50_000)
    } while Date() < deadline
    return content
}
