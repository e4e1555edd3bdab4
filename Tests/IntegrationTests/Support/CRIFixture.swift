import Foundation
import TetherTestSupport

/// One CRI node for a test: a private containerd 1.6 with its CRI plugin (namespace k8s.io) and two runtime
/// handlers, `tether` (runtime_type io.containerd.tether.v2: our tether-shim, found on containerd's PATH as
/// containerd-shim-tether-v2) and `runc` (io.containerd.runc.v2, the reference); images from a LocalRegistry
/// (busybox from the test rootfs, and a pause image from Tests/RootfsPrograms/pause.c); pods on the host network
/// under a cgroup parent of their own. The CRI is called through scripts/cri/cri-client.py (Python grpcio).
/// Everything (containerd root, state, sockets, logs, registry storage) lives in the fixture's temporary dirs.
final class CRIFixture {
    static let python = "/usr/bin/python3"
    static let gcc = "/usr/bin/gcc"
    static let handlers = ["tether", "runc"]
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let client = repository + "/scripts/cri/cri-client.py"
    static let imageBuilder = repository + "/scripts/cri/oci-image.py"
    /// Every hierarchy mounted under /sys/fs/cgroup (v1 controllers, and the hybrid's unified one).
    static var cgroupControllers: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).filter { name in
            var isDirectory: ObjCBool = false
            let path = "/sys/fs/cgroup/" + name
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                && (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil
        }
    }

    /// Why this machine cannot run the lane, or nil.
    static let missing: String? = {
        if !TestEnvironment.canRunContainers { return "needs root and the busybox rootfs" }
        if !PrivateContainerd.isInstalled { return "needs Debian's containerd" }
        if !LocalRegistry.isInstalled { return "needs docker-registry and skopeo (make deps)" }
        if !TestEnvironment.hasCommand(gcc) { return "needs gcc for the pause image" }
        if !TestEnvironment.hasCommand("/usr/bin/containerd-shim-runc-v2") { return "needs containerd-shim-runc-v2" }
        let grpc = try? runCommand(python, ["-c", "import grpc, google.protobuf"])
        if grpc?.status != 0 { return "needs python3-grpcio and python3-protobuf (make deps)" }
        return nil
    }()
    static var canRun: Bool { missing == nil }

    let registry: LocalRegistry
    let work: TemporaryDirectory
    let containerd: PrivateContainerd
    let busyboxImage: String
    let pauseImage: String
    let cgroupParent: String
    private var pods: [String] = []

    init(privateMountNamespace: Bool = false) throws {
        registry = try LocalRegistry()
        work = try TemporaryDirectory("tether-cri")
        let dir = work.path
        try FileManager.default.createDirectory(atPath: dir + "/pause-root", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try Self.check(runCommand(Self.gcc, ["-static", "-Os", "-Wall", "-Werror", "-o", dir + "/pause-root/pause",
                                             Self.repository + "/Tests/RootfsPrograms/pause.c"]), "gcc pause.c")
        try Self.check(runCommand(Self.python, [Self.imageBuilder, dir + "/busybox-oci", "1", TestEnvironment.rootfs,
                                                "--cmd", "/bin/sh"]), "oci-image busybox")
        try Self.check(runCommand(Self.python, [Self.imageBuilder, dir + "/pause-oci", "1", dir + "/pause-root",
                                                "--cmd", "/pause"]), "oci-image pause")
        busyboxImage = try registry.push(layout: dir + "/busybox-oci", tag: "1", as: "tether/busybox:1")
        pauseImage = try registry.push(layout: dir + "/pause-oci", tag: "1", as: "tether/pause:1")
        try FileManager.default.createSymbolicLink(atPath: dir + "/bin/containerd-shim-tether-v2",
                                                   withDestinationPath: TestEnvironment.binary("tether-shim"))
        let hosts = dir + "/certs.d/" + registry.host
        try FileManager.default.createDirectory(atPath: hosts, withIntermediateDirectories: true)
        try """
            server = "http://\(registry.host)"
            [host."http://\(registry.host)"]
              capabilities = ["pull", "resolve"]
            """.write(toFile: hosts + "/hosts.toml", atomically: true, encoding: .utf8)
        cgroupParent = "/tether-cri-\(uniqueID())"
        let pause = pauseImage
        containerd = try PrivateContainerd(namespace: "k8s.io", privateMountNamespace: privateMountNamespace,
                                           shimSearchPath: [dir + "/bin"]) { root in
            Self.criPluginConfig(directory: root, sandboxImage: pause, registryConfig: dir + "/certs.d")
        }
        _ = try call("PullImage", ["image": ["image": busyboxImage]])
    }

    /// containerd's CRI plugin configuration for the lane: scripts/cri/cri-plugin.toml (shared with the CRI bench)
    /// with its placeholders replaced.
    static func criPluginConfig(directory: String, sandboxImage: String, registryConfig: String) -> String {
        let template = (try? String(contentsOfFile: repository + "/scripts/cri/cri-plugin.toml", encoding: .utf8)) ?? ""
        return template.replacingOccurrences(of: "@DIR@", with: directory)
            .replacingOccurrences(of: "@SANDBOX_IMAGE@", with: sandboxImage)
            .replacingOccurrences(of: "@REGISTRY_CONFIG@", with: registryConfig)
    }

    private static func check(_ result: CommandResult, _ what: String) throws {
        guard result.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(what): \(result)"])
        }
    }

    // MARK: CRI calls

    struct CallError: Error, CustomStringConvertible {
        let method: String
        let code: String
        let details: String
        var description: String { "\(method): \(code): \(details)" }
    }

    /// One CRI call; a gRPC error is thrown as CallError.
    @discardableResult
    func call(_ method: String, _ request: [String: Any] = [:], timeout: TimeInterval = 60) throws -> [String: Any] {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        let result = try runCommand(Self.python, [Self.client, "--socket", containerd.address, "--timeout",
                                                  String(Int(timeout)), method], stdin: body, timeout: timeout + 30)
        let answer = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
        if let error = answer?["error"] as? [String: Any] {
            throw CallError(method: method, code: error["code"] as? String ?? "?", details: error["details"] as? String ?? "")
        }
        guard result.status == 0, let answer else {
            throw CallError(method: method, code: "CLIENT", details: result.description)
        }
        return answer
    }

    // MARK: Pods and containers

    /// The PodSandboxConfig of a host-network pod, its logs in <work>/logs/<name>.
    func podConfig(_ name: String, privileged: Bool = false) -> [String: Any] {
        [
            "metadata": ["name": name, "uid": "uid-" + name, "namespace": "tether-test"],
            "log_directory": work.path + "/logs/" + name,
            "linux": [
                "cgroup_parent": cgroupParent,
                "security_context": ["namespace_options": ["network": "NODE"], "privileged": privileged],
            ] as [String: Any],
        ]
    }

    /// RunPodSandbox under `handler`; returns the pod id and the config to pass to CreateContainer.
    func runPod(_ name: String, handler: String, privileged: Bool = false) throws -> (id: String, config: [String: Any]) {
        let config = podConfig(name, privileged: privileged)
        let answer = try call("RunPodSandbox", ["config": config, "runtime_handler": handler])
        guard let id = answer["pod_sandbox_id"] as? String else { throw CallError(method: "RunPodSandbox", code: "?", details: "\(answer)") }
        pods.append(id)
        return (id, config)
    }

    /// CreateContainer (busybox image, its own PID namespace, log at <name>.log) and, unless told, StartContainer.
    @discardableResult
    func runContainer(pod: (id: String, config: [String: Any]), name: String, command: [String],
                      linux: [String: Any] = [:], mounts: [[String: Any]] = [], start: Bool = true) throws -> String {
        var linux = linux
        var security = linux["security_context"] as? [String: Any] ?? [:]
        security["namespace_options"] = ["network": "NODE", "pid": "CONTAINER"]
        linux["security_context"] = security
        let config: [String: Any] = [
            "metadata": ["name": name], "image": ["image": busyboxImage], "command": command,
            "log_path": name + ".log", "linux": linux, "mounts": mounts,
        ]
        let answer = try call("CreateContainer", ["pod_sandbox_id": pod.id, "config": config, "sandbox_config": pod.config])
        guard let id = answer["container_id"] as? String else { throw CallError(method: "CreateContainer", code: "?", details: "\(answer)") }
        if start { try call("StartContainer", ["container_id": id]) }
        return id
    }

    func logPath(pod: String, container: String) -> String { work.path + "/logs/" + pod + "/" + container + ".log" }

    func containerStatus(_ id: String) throws -> [String: Any] {
        try call("ContainerStatus", ["container_id": id])["status"] as? [String: Any] ?? [:]
    }

    /// Polls ContainerStatus until the container is EXITED (or `timeout` passes); returns the last status.
    func waitForExit(_ id: String, timeout: TimeInterval = 20) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var status = try containerStatus(id)
        while status["state"] as? String != "CONTAINER_EXITED" && Date() < deadline {
            usleep(100_000)
            status = try containerStatus(id)
        }
        return status
    }

    /// Stops and removes a pod (and its containers), as the kubelet does.
    func removePod(_ id: String) throws {
        try call("StopPodSandbox", ["pod_sandbox_id": id])
        try call("RemovePodSandbox", ["pod_sandbox_id": id])
        pods.removeAll { $0 == id }
    }

    // MARK: What is on the host

    /// The shim processes serving a pod: containerd starts them with `-namespace k8s.io -id <pod id> -address <ours>`.
    func shimProcesses(pod: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard processIsAlive(pid), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return zip(arguments, arguments.dropFirst()).contains { $0 == ("-id", pod) }
                && zip(arguments, arguments.dropFirst()).contains { $0 == ("-address", containerd.address) }
        }
    }

    /// The Threads: line of /proc/PID/status.
    static func threads(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
            .flatMap { Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) }
    }

    /// Mount points under the fixture's containerd directory, in containerd's mount namespace.
    func mountsUnderContainerd() -> [String] {
        let pid = containerd.process.map { String($0.processIdentifier) } ?? "self"
        // Lossy: another test's mount point may not be UTF-8, and the whole file must still be read.
        let data = FileHandle(forReadingAtPath: "/proc/\(pid)/mountinfo")?.readDataToEndOfFile() ?? Data()
        let info = String(decoding: data, as: UTF8.self)
        return info.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4].hasPrefix(containerd.directory.path) else { return nil }
            return String(fields[4])
        }
    }

    /// The cgroup directories below the pods' cgroup parent, in the checked controllers.
    func cgroupsUnderParent() -> [String] {
        Self.cgroupControllers.flatMap { controller -> [String] in
            let parent = "/sys/fs/cgroup/\(controller)\(cgroupParent)"
            let children = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            return children.filter { var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: parent + "/" + $0, isDirectory: &isDirectory) && isDirectory.boolValue
            }.map { parent + "/" + $0 }
        }
    }

    /// The container's cgroup v1 directory in `controller`.
    func cgroup(_ controller: String, container: String) -> String {
        "/sys/fs/cgroup/\(controller)\(cgroupParent)/\(container)"
    }

    // MARK: Cleanup

    func stop() {
        for pod in pods { try? removePod(pod) }
        pods = []
        containerd.stop()
        registry.stop()
        // Cgroup directories: leaves first, then the parent.
        for controller in Self.cgroupControllers {
            let parent = "/sys/fs/cgroup/\(controller)\(cgroupParent)"
            for child in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] { rmdir(parent + "/" + child) }
            rmdir(parent)
        }
    }

    deinit { stop() }
}

/// An int64 of protobuf JSON (a string) or an int32 (a number).
func protoInt(_ value: Any?) -> Int64? {
    if let string = value as? String { return Int64(string) }
    if let number = value as? NSNumber { return number.int64Value }
    return nil
}

/// A `bytes` field of protobuf JSON (base64) as text.
func protoText(_ value: Any?) -> String {
    guard let string = value as? String, let data = Data(base64Encoded: string) else { return "" }
    return String(decoding: data, as: UTF8.self)
}
